"""How far any storage of SmolLM2's weights can take top-1 agreement with llama.cpp: a NumPy f32
forward of SmolLM2-135M-Instruct.Q4_1.gguf, teacher-forced on test/golden/smollm2-llamacpp.json's
512 greedy steps, with the GGUF's exact weights (dequantized by PyPI gguf) and variants:

  exact          exact weights, f32 activations
  updown_q8      FFN up and down re-quantized to q8_32 (ffn.bin), the rest exact: Flashcode's default import
  all_q8         every matrix re-quantized to q8_32: Flashcode's --bits 8
  exact_act8_f16 exact weights, every matmul input rounded to 8 bits per 32 (as llama.cpp's q8_0/q8_1
                 activations) and q, k, v and the attention weights to f16 (its KV cache)

Prints agreement and the largest |logit difference| on llama.cpp's top 5 per variant. Measured
2026-12-04: exact 0.973 (1.18), updown_q8 0.973 (1.82; 1.93 with f16 scales, 2026-12-05),
exact_act8_f16 0.984 (1.04): storing the weights exactly does not reach 0.99; what flips are
near-ties that llama.cpp's arithmetic decides.

    .cache/import-venv/bin/python scripts/smollm2-agreement-ceiling.py [VARIANT ...]
"""
import json
import sys
from pathlib import Path

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize

F32 = np.float32
ROOT = Path(__file__).resolve().parents[1]


def q8_32(x: np.ndarray, f16_scale: bool = True) -> np.ndarray:
    """x [..., n] → q8_32 and back (FORMAT.md §Q: f16 scales), blocks of 32 along the last axis;
    f16_scale=False keeps each scale f32 (the activation rounding of exact_act8_f16)."""
    b = x.reshape(-1, 32)
    s = (np.abs(b).max(1) / F32(127)).astype(F32)
    if f16_scale:
        s = s.astype(np.float16).astype(F32)
    q = np.where(s[:, None] > 0, np.clip(np.rint(b / np.where(s > 0, s, F32(1))[:, None]), -127, 127), 0)
    return (q * s[:, None]).astype(F32).reshape(x.shape)


class Smollm2:
    def __init__(self, gguf: Path):
        reader = GGUFReader(str(gguf))
        self.t = {t.name: t for t in reader.tensors}
        self.H, self.Hkv, self.hd, self.L = 9, 3, 64, 30
        self.embed = self.w("token_embd.weight")
        self.final = self.w("output_norm.weight")[0]
        self.layers = []
        for l in range(self.L):
            p = f"blk.{l}."
            self.layers.append({k: self.w(p + n, heads) for k, n, heads in [
                ("an", "attn_norm.weight", 0), ("q", "attn_q.weight", self.H), ("k", "attn_k.weight", self.Hkv),
                ("v", "attn_v.weight", 0), ("o", "attn_output.weight", 0), ("fn", "ffn_norm.weight", 0),
                ("g", "ffn_gate.weight", 0), ("u", "ffn_up.weight", 0), ("dn", "ffn_down.weight", 0)]})
        self.inv = (100000.0 ** (-np.arange(0, self.hd, 2, dtype=np.float64) / self.hd)).astype(F32)

    def w(self, name: str, heads: int = 0) -> np.ndarray:
        t = self.t[name]
        cols = int(t.shape[0])
        x = dequantize(t.data, t.tensor_type).reshape(-1, cols).astype(F32)
        if heads:  # undo llama.cpp's Q/K row permutation: rotate-half (Hugging Face) layout
            rows = x.shape[0]
            x = x.reshape(heads, rows // heads // 2, 2, cols).swapaxes(1, 2).reshape(rows, cols)
        return x

    def variant(self, name: str):
        """(weights per layer, activation rounding, f16 attention) for a variant."""
        keys = {"updown_q8": ("u", "dn"), "all_q8": ("q", "k", "v", "o", "g", "u", "dn")}.get(name, ())
        layers = []
        for w in self.layers:
            w = dict(w)
            for k in keys:  # down is re-quantized along its columns, as ffn.bin's records hold it
                w[k] = q8_32(w[k].T.copy()).T.copy() if k == "dn" else q8_32(w[k])
            layers.append(w)
        embed = q8_32(self.embed) if name == "all_q8" else self.embed
        act = (lambda x: q8_32(x, f16_scale=False)) if name == "exact_act8_f16" else (lambda x: x)
        return layers, embed, act, name == "exact_act8_f16"

    def logits(self, ids: list, layers, embed, act, f16) -> np.ndarray:
        n, H, Hkv, hd = len(ids), self.H, self.Hkv, self.hd
        pos = np.arange(n)
        half = (lambda x: x.astype(np.float16).astype(F32)) if f16 else (lambda x: x)
        rms = lambda x, g: (x / np.sqrt((x * x).mean(-1, keepdims=True) + F32(1e-5)) * g).astype(F32)
        rot = lambda x: np.concatenate([-x[..., hd // 2:], x[..., :hd // 2]], -1)
        h = embed[ids].copy()
        ang = np.concatenate([pos[:, None].astype(F32) * self.inv] * 2, -1)
        cos, sin = np.cos(ang), np.sin(ang)
        for w in layers:
            x = act(rms(h, w["an"]))
            q = (x @ w["q"].T).reshape(n, H, hd).transpose(1, 0, 2)
            k = (x @ w["k"].T).reshape(n, Hkv, hd).transpose(1, 0, 2)
            v = half((x @ w["v"].T).reshape(n, Hkv, hd).transpose(1, 0, 2))
            q, k = half(q * cos + rot(q) * sin), half(k * cos + rot(k) * sin)
            scores = (q / np.sqrt(hd)).astype(F32).reshape(Hkv, H // Hkv, n, hd) @ k.transpose(0, 2, 1)[:, None]
            scores = np.where(pos[None, :] <= pos[:, None], scores, F32(-1e30))
            e = np.exp(scores - scores.max(-1, keepdims=True))
            ctx = (half(e / e.sum(-1, keepdims=True)) @ v[:, None]).reshape(H, n, hd).transpose(1, 0, 2).reshape(n, H * hd)
            h = h + act(ctx) @ w["o"].T
            x = act(rms(h, w["fn"]))
            g = x @ w["g"].T
            h = h + act(((g / (1 + np.exp(-g))) * (x @ w["u"].T)).astype(F32)) @ w["dn"].T
        return act(rms(h, self.final)) @ embed.T


def main() -> None:
    model = Smollm2(ROOT / ".cache/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
    golden = json.loads((ROOT / "test/golden/smollm2-llamacpp.json").read_text(encoding="utf-8"))
    for name in sys.argv[1:] or ["exact", "updown_q8", "all_q8", "exact_act8_f16"]:
        v = model.variant(name)
        agree = steps = 0
        worst = 0.0
        for p in golden["prompts"]:
            logits = model.logits(p["promptIds"] + p["greedyIds"][:-1], *v)
            start = len(p["promptIds"]) - 1
            for s, want in enumerate(p["greedyIds"]):
                row = logits[start + s]
                steps += 1
                agree += int(row.argmax() == want)
                worst = max(worst, max(abs(float(row[i]) - l) for i, l in p["topLogits"][s]))
        print(json.dumps({"variant": name, "agree": agree, "steps": steps, "agreement": round(agree / steps, 4), "maxLogitDiff": round(worst, 3)}), flush=True)


if __name__ == "__main__":
    main()
