"""NumPy reference forward pass of a format-v2 model directory (models/FORMAT.md §W), read back from
its files: weights.bin (q8_32 dequantised), ffn.bin version 3, tokenizer.json. Dense, f32 math
throughout, with a KV cache; RoPE rotate-half, grouped-query attention, optional Q/K/V bias (Qwen2),
silu (SwiGLU) / relu / squared_relu FFN, optional head_bias. The engine's ModelV2 is compared with it.

activations="q8" also rounds the input of every q8_32 matrix product to q8_32 (FORMAT.md §Q, blocks of
32 along the reduced dimension), as an integer-dot-product engine does: the normed x before qkv,
gate/up and the head, and the attention context before `out`. The FFN's down projection (a sum of
record columns scaled by the f32 activations) keeps f32 activations.

kv="int8" stores each key and value row (one KV head, one position, headDim values) as the engine's
8-bit KV cache does (src/engine/v2/kvCacheQ8.ts): scale = f32(max|row| / 127), quants =
floor(x · 127/max|row| + 0.5) in f64, the row read back as quants × scale.

    /usr/bin/python3 models/pipeline/reference_v2.py MODEL_DIR [--prompt TEXT] [--steps N]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from bpe import ByteLevelBpe
from flashcode_format import dequantize_q8, quantize_q8, read_ffn_bin, verify_manifest_files
from flashcode_format_v2 import read_weights_bin
from graphs import MASKED_SCORE
from reference import F32, FfnStats, GreedyRun, KvCache, rms_norm, rotate_half


def rope_inv_freq(theta: float, head_dim: int) -> np.ndarray:
    """θᵢ = theta^(−2i/hd), i < hd/2, computed in f64 then rounded to f32 (FORMAT.md §W)."""
    return (float(theta) ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)).astype(F32)


def silu(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # exp(−z) overflows to inf for very negative z: silu → −0
        return z / (F32(1) + np.exp(-z))


def q8_round(x: np.ndarray) -> np.ndarray:
    """x [..., n] (n % 32 == 0) quantised to q8_32 and back, in f32."""
    q, scale = quantize_q8(x.reshape(-1, x.shape[-1]))
    return dequantize_q8(q, scale).reshape(x.shape)


def int8_rows(x: np.ndarray) -> np.ndarray:
    """Each row of the last axis as the 8-bit KV cache holds it (module docstring, kv="int8")."""
    top = np.abs(x).max(axis=-1, keepdims=True).astype(np.float64)
    scale = (top / 127).astype(F32)
    inv = np.where(top > 0, 127 / np.where(top > 0, top, 1), 0)
    quants = np.floor(x.astype(np.float64) * inv + 0.5)
    return (quants * scale).astype(F32)


class ReferenceModelV2:
    def __init__(self, model_dir: Path, activations: str = "f32", kv: str = "f32"):
        model_dir = Path(model_dir)
        if activations not in ("f32", "q8"):
            raise ValueError(f"activations must be f32 or q8, not {activations}")
        if kv not in ("f32", "int8"):
            raise ValueError(f"kv must be f32 or int8, not {kv}")
        self.kv_round = int8_rows if kv == "int8" else (lambda x: x)
        self.act_in = q8_round if activations == "q8" else (lambda x: x)
        self.manifest = verify_manifest_files(model_dir)
        if self.manifest["formatVersion"] != 2:
            raise ValueError(f"{model_dir} is not a format-v2 directory (reference.py reads v1)")
        arch = self.arch = self.manifest["architecture"]
        self.layers, self.d = arch["layers"], arch["dModel"]
        self.heads, self.kv_heads, self.head_dim = arch["heads"], arch["kvHeads"], arch["headDim"]
        self.vocab, self.activation = arch["vocabSize"], arch["ffnActivation"]
        self.eps = F32(arch["normEps"])
        self.w = read_weights_bin(model_dir / self.manifest["weights"]["file"], arch)
        header, self.ffn = read_ffn_bin(model_dir / self.manifest["ffn"]["file"])
        if header.version != 3:
            raise ValueError(f"a v2 directory's ffn.bin is version 3, this one is {header.version}")
        self.inv_freq = rope_inv_freq(arch["ropeTheta"], self.head_dim)
        self.head_weight = self.w["embed"] if arch["tiedEmbeddings"] else self.w["head"]
        self.head_bias = self.w.get("head_bias")
        doc = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
        self.tokenizer = ByteLevelBpe.from_tokenizer_json(doc)

    def empty_cache(self) -> KvCache:
        empty = lambda: np.zeros((self.kv_heads, 0, self.head_dim), dtype=F32)
        return KvCache([empty() for _ in range(self.layers)], [empty() for _ in range(self.layers)])

    def attention(self, l: int, hidden: np.ndarray, positions: np.ndarray, cache: KvCache) -> np.ndarray:
        """hidden [T,d] → hidden + out · Attn(...) [T,d]; appends to cache."""
        H, Hkv, hd = self.heads, self.kv_heads, self.head_dim
        T = hidden.shape[0]
        x = rms_norm(hidden, self.w[f"layers.{l}.attn_norm"], self.eps)
        qkv = self.act_in(x) @ self.w[f"layers.{l}.qkv"].T                           # [T,(H+2Hkv)hd]
        if self.arch["attentionBias"]:
            qkv = qkv + self.w[f"layers.{l}.qkv_bias"]
        q = qkv[:, :H * hd].reshape(T, H, hd).transpose(1, 0, 2)        # [H,T,hd]
        k = qkv[:, H * hd:(H + Hkv) * hd].reshape(T, Hkv, hd).transpose(1, 0, 2)
        v = qkv[:, (H + Hkv) * hd:].reshape(T, Hkv, hd).transpose(1, 0, 2)

        freqs = positions.astype(F32)[:, None] * self.inv_freq           # [T,hd/2]
        angles = np.concatenate([freqs, freqs], axis=-1)                  # [T,hd]
        cos, sin = np.cos(angles), np.sin(angles)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin

        keys = cache.keys[l] = np.concatenate([cache.keys[l], self.kv_round(k)], axis=1)          # [Hkv,S,hd]
        values = cache.values[l] = np.concatenate([cache.values[l], self.kv_round(v)], axis=1)
        S = keys.shape[1]
        q5 = (q * F32(1 / np.sqrt(hd))).reshape(Hkv, H // Hkv, T, hd)    # query head h reads kv head h // G
        scores = q5 @ keys.transpose(0, 2, 1)[:, None]                    # [Hkv,G,T,S]
        visible = np.arange(S)[None, :] <= positions[:, None]             # [T,S]
        scores = np.where(visible, scores, F32(MASKED_SCORE))
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        probs = scores / scores.sum(axis=-1, keepdims=True)
        ctx = (probs @ values[:, None]).reshape(H, T, hd).transpose(1, 0, 2).reshape(T, H * hd)
        return hidden + self.act_in(ctx) @ self.w[f"layers.{l}.out"].T

    def ffn_activations(self, l: int, x: np.ndarray) -> np.ndarray:
        """x [T,d] → h [T,ffnSize], the coefficients of the down columns."""
        layer = self.ffn[l]
        x = self.act_in(x)
        up = x @ layer.w_up.T
        if self.activation == "silu":
            return silu(x @ self.w[f"layers.{l}.ffn_gate"].T) * up
        gated = layer.w_gate is not None
        act = np.maximum(x @ layer.w_gate.T if gated else up, F32(0))
        if self.activation == "squared_relu":
            act = act * act
        return act * up if gated else act

    def forward(self, ids: list[int], cache: KvCache, stats: FfnStats | None = None) -> np.ndarray:
        """Runs `ids` at positions cache.length … and returns logits [T, V]; extends the cache."""
        positions = np.arange(cache.length, cache.length + len(ids), dtype=np.int64)
        hidden = self.w["embed"][np.asarray(ids)]                          # [T,d]
        for l in range(self.layers):
            hidden = self.attention(l, hidden, positions, cache)
            h = self.ffn_activations(l, rms_norm(hidden, self.w[f"layers.{l}.ffn_norm"], self.eps))
            if stats is not None:
                stats.zeros[l] += int(np.count_nonzero(h == 0))
                stats.total[l] += h.size
            hidden = hidden + h @ self.ffn[l].w_down.T
        logits = self.act_in(rms_norm(hidden, self.w["final_norm"], self.eps)) @ self.head_weight.T
        return logits + self.head_bias if self.head_bias is not None else logits

    def new_stats(self) -> FfnStats:
        return FfnStats([0] * self.layers, [0] * self.layers)

    def greedy(self, prompt_ids: list[int], steps: int, stats: FfnStats | None = None) -> GreedyRun:
        """Prefill, then one token per decode step; ties go to the lowest id (np.argmax)."""
        cache = self.empty_cache()
        run = GreedyRun(prefill_logits=self.forward(prompt_ids, cache, stats)[-1])
        next_id = int(np.argmax(run.prefill_logits))
        for _ in range(steps):
            run.ids.append(next_id)
            logits = self.forward([next_id], cache, stats)[-1]
            run.step_logits.append(logits)
            next_id = int(np.argmax(logits))
        return run

    def fim_prompt(self, prefix: str, suffix: str) -> list[int]:
        """FORMAT.md §M: with `fim`, as v1 (psm or spm); without it, the prefix alone."""
        enc = self.tokenizer.encode
        fim = self.manifest.get("fim")
        if fim is None:
            return enc(prefix)
        pre, suf, mid = (self.tokenizer.special[fim[k]] for k in ("prefixToken", "suffixToken", "middleToken"))
        if fim["order"] == "spm":
            return [pre, suf] + enc(suffix) + [mid] + enc(prefix)
        return [pre] + enc(prefix) + [suf] + enc(suffix) + [mid]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--prompt", default="def add(a, b):\n    return ")
    parser.add_argument("--steps", type=int, default=32)
    args = parser.parse_args()
    model = ReferenceModelV2(args.model_dir)
    ids = model.tokenizer.encode(args.prompt)
    run = model.greedy(ids, args.steps)
    print(json.dumps({"promptIds": ids, "greedyIds": run.ids, "text": model.tokenizer.decode(run.ids)}))


if __name__ == "__main__":
    main()
