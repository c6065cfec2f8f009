"""NumPy reference forward pass of a format-v1 model directory, read back from its files.

Weights come from the written artifacts only: graph initializers (onnx.numpy_helper), FFN weights
through the ffn.bin reader, the tokenizer from tokenizer.json. Float32 throughout, in the order the
graphs compute, so the engine's ONNX Runtime logits match to ~1e-5.

    /usr/bin/python3 models/pipeline/reference.py [MODEL_DIR] [--prompt TEXT] [--steps N]
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from bpe import ByteLevelBpe
from flashcode_format import read_ffn_bin, verify_manifest_files
from graphs import MASKED_SCORE

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODEL_DIR = REPO / "test" / "fixtures" / "tiny-model"
F32 = np.float32


def _initializers(path: Path) -> dict[str, np.ndarray]:
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}


def rms_norm(x: np.ndarray, weight: np.ndarray, eps: np.float32) -> np.ndarray:
    """[..., d] → [..., d]: x / sqrt(mean(x²) + eps) · weight."""
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True, dtype=F32) + eps) * weight


def rotate_half(x: np.ndarray) -> np.ndarray:
    a, b = np.split(x, 2, axis=-1)
    return np.concatenate([-b, a], axis=-1)


@dataclass
class KvCache:
    """Per layer: keys and values [Hkv, S, hd] f32, positions 0 … S-1."""
    keys: list[np.ndarray]
    values: list[np.ndarray]

    @property
    def length(self) -> int:
        return self.keys[0].shape[1]


@dataclass
class FfnStats:
    """Per layer: how many FFN neurons were exactly zero, over how many (token, neuron) pairs."""
    zeros: list[int]
    total: list[int]

    def per_layer(self) -> list[float]:
        return [z / t for z, t in zip(self.zeros, self.total)]


class ReferenceModel:
    def __init__(self, model_dir: Path = DEFAULT_MODEL_DIR):
        model_dir = Path(model_dir)
        self.manifest = verify_manifest_files(model_dir)
        if self.manifest["formatVersion"] != 1:
            raise ValueError(f"{model_dir} is format v{self.manifest['formatVersion']}; reference_v2.py reads v2")
        arch = self.manifest["architecture"]
        self.layers, self.d = arch["layers"], arch["dModel"]
        self.heads, self.kv_heads, self.head_dim = arch["heads"], arch["kvHeads"], arch["headDim"]
        self.vocab = arch["vocabSize"]
        self.activation, self.gated = arch["ffnActivation"], arch["ffnGated"]
        self.eps = F32(arch["normEps"])
        graphs = self.manifest["graphs"]

        self.embed_weight = _initializers(model_dir / graphs["embed"])["embed.weight"]   # [V, d]
        self.attn = [_initializers(model_dir / name) for name in graphs["attention"]]
        self.head = _initializers(model_dir / graphs["head"])
        _, self.ffn = read_ffn_bin(model_dir / self.manifest["ffn"]["file"])
        doc = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
        self.tokenizer = ByteLevelBpe.from_tokenizer_json(doc)
        fim = self.manifest["fim"]
        self.fim_ids = {k: self.tokenizer.special[fim[k]] for k in ("prefixToken", "suffixToken", "middleToken")}

    def empty_cache(self) -> KvCache:
        empty = lambda: np.zeros((self.kv_heads, 0, self.head_dim), dtype=F32)
        return KvCache([empty() for _ in range(self.layers)], [empty() for _ in range(self.layers)])

    def attention(self, l: int, hidden: np.ndarray, positions: np.ndarray, cache: KvCache) -> tuple[np.ndarray, np.ndarray]:
        """hidden [T,d], positions [T] → (hidden_out [T,d], ffn_input [T,d]); appends to cache."""
        w = self.attn[l]
        H, Hkv, hd = self.heads, self.kv_heads, self.head_dim
        T = hidden.shape[0]
        x = rms_norm(hidden, w["attn_norm.weight"], self.eps)
        q = (x @ w["wq_t"]).reshape(T, H, hd).transpose(1, 0, 2)        # [H,T,hd]
        k = (x @ w["wk_t"]).reshape(T, Hkv, hd).transpose(1, 0, 2)      # [Hkv,T,hd]
        v = (x @ w["wv_t"]).reshape(T, Hkv, hd).transpose(1, 0, 2)

        freqs = positions.astype(F32)[:, None] * w["rope.inv_freq"]     # [T,hd/2]
        angles = np.concatenate([freqs, freqs], axis=-1)                # [T,hd]
        cos, sin = np.cos(angles), np.sin(angles)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin

        keys = cache.keys[l] = np.concatenate([cache.keys[l], k], axis=1)          # [Hkv,S,hd]
        values = cache.values[l] = np.concatenate([cache.values[l], v], axis=1)
        S = keys.shape[1]

        q5 = (q * F32(1 / np.sqrt(hd))).reshape(Hkv, H // Hkv, T, hd)  # [Hkv,G,T,hd]
        scores = q5 @ keys.transpose(0, 2, 1)[:, None]                  # [Hkv,G,T,S]
        visible = np.arange(S)[None, :] <= positions[:, None]           # [T,S]
        scores = np.where(visible, scores, F32(MASKED_SCORE))
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        probs = scores / scores.sum(axis=-1, keepdims=True)
        ctx = (probs @ values[:, None]).reshape(H, T, hd).transpose(1, 0, 2).reshape(T, H * hd)
        hidden_out = hidden + ctx @ w["wo_t"]
        return hidden_out, rms_norm(hidden_out, w["ffn_norm.weight"], self.eps)

    def ffn_activations(self, l: int, x: np.ndarray) -> np.ndarray:
        """x [T,d] → h [T,ffnSize], the per-neuron coefficients of the down columns."""
        layer = self.ffn[l]
        up = x @ layer.w_up.T
        act = np.maximum(x @ layer.w_gate.T if self.gated else up, F32(0))
        if self.activation == "squared_relu":
            act = act * act
        return act * up if self.gated else act

    def forward(self, ids: list[int], cache: KvCache, stats: FfnStats | None = None) -> np.ndarray:
        """Runs `ids` at positions cache.length … and returns logits [T, V]; extends the cache."""
        positions = np.arange(cache.length, cache.length + len(ids), dtype=np.int64)
        hidden = self.embed_weight[np.asarray(ids)]                     # [T,d]
        for l in range(self.layers):
            hidden_out, ffn_input = self.attention(l, hidden, positions, cache)
            h = self.ffn_activations(l, ffn_input)                      # [T,ffnSize]
            if stats is not None:
                stats.zeros[l] += int(np.count_nonzero(h == 0))
                stats.total[l] += h.size
            hidden = hidden_out + h @ self.ffn[l].w_down.T
        x = rms_norm(hidden, self.head["final_norm.weight"], self.eps)
        return x @ self.head["lm_head_t"] + self.head["logit_bias"]

    def new_stats(self) -> FfnStats:
        return FfnStats([0] * self.layers, [0] * self.layers)

    def greedy(self, prompt_ids: list[int], steps: int, stats: FfnStats | None = None) -> "GreedyRun":
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
        """The manifest's fim.order (FORMAT.md §1): PSM = prefixToken · prefix · suffixToken · suffix ·
        middleToken; SPM = prefixToken · suffixToken · suffix · middleToken · prefix."""
        enc = self.tokenizer.encode
        pre, suf, mid = (self.fim_ids[k] for k in ("prefixToken", "suffixToken", "middleToken"))
        if self.manifest["fim"]["order"] == "spm":
            return [pre, suf] + enc(suffix) + [mid] + enc(prefix)
        return [pre] + enc(prefix) + [suf] + enc(suffix) + [mid]


@dataclass
class GreedyRun:
    prefill_logits: np.ndarray                                          # [V], at the last prompt position
    ids: list[int] = field(default_factory=list)                        # greedy tokens, in order
    step_logits: list[np.ndarray] = field(default_factory=list)         # [V] after feeding ids[i]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", nargs="?", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--prompt", default="def add(a, b):\n    return ")
    parser.add_argument("--steps", type=int, default=32)
    args = parser.parse_args()
    model = ReferenceModel(args.model_dir)
    ids = model.tokenizer.encode(args.prompt)
    run = model.greedy(ids, args.steps)
    print(json.dumps({"promptIds": ids, "greedyIds": run.ids, "text": model.tokenizer.decode(run.ids)}))


if __name__ == "__main__":
    main()
