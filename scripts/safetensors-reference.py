"""The safetensors → engine chain's NumPy side (test/integration/safetensorsReference.test.ts):

  write OUT        a small random Llama (untied head) and Qwen2 (tied, Q/K/V biases) checkpoint,
                   F32, written by PyPI safetensors into OUT/llama and OUT/qwen2 (config.json,
                   model.safetensors, the committed tiny fixtures' tokenizer files), and
                   OUT/reference.json: per model the token ids and the logits [T][V] of a NumPy f32
                   forward of those ORIGINAL weights
  imported DIR     the logits of the same forward over the weights the importer wrote to DIR, keys and
                   values stored as the engine's 8-bit KV cache
                   (weights.bin and ffn.bin dequantized: models/FORMAT.md §Q, §Q4), as JSON on stdout

One forward for both, in Hugging Face layout: RMSNorm, RoPE rotate-half (θ in f64, rounded to f32),
grouped-query causal attention, SwiGLU, f32 throughout.

    .cache/import-venv/bin/python scripts/safetensors-reference.py write OUT | imported DIR
"""
import json
import shutil
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "models" / "pipeline"))
from flashcode_format import read_ffn_bin  # noqa: E402
from flashcode_format_v2 import read_weights_bin  # noqa: E402

F32 = np.float32
SHAPE = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
         "num_key_value_heads": 2, "rms_norm_eps": 1e-5, "hidden_act": "silu", "vocab_size": 264}
MODELS = {
    "llama": {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "rope_theta": 500000.0,
              "max_position_embeddings": 2048, "tie_word_embeddings": False, "rope_scaling": None},
    "qwen2": {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "rope_theta": 1000000.0,
              "max_position_embeddings": 2048, "tie_word_embeddings": True, "use_sliding_window": False},
}
IDS = [5, 17, 99, 200, 3, 42, 128, 7, 250, 1, 64, 33, 90, 12, 261, 8]


def random_weights(config: dict, seed: int) -> dict:
    """Hugging Face names → f32 arrays; linear weights ~ N(0, 1/fan_in), embeddings ~ N(0, 1/16), so
    logits (through a tied embedding too) are O(1)."""
    rng = np.random.default_rng(seed)
    d, f, v = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    h, kv = config["num_attention_heads"], config["num_key_value_heads"]
    hd = d // h
    lin = lambda rows, cols: (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(F32)
    norm = lambda n: (1 + 0.1 * rng.standard_normal(n)).astype(F32)
    w = {"model.embed_tokens.weight": (0.25 * rng.standard_normal((v, d))).astype(F32), "model.norm.weight": norm(d)}
    if not config["tie_word_embeddings"]:
        w["lm_head.weight"] = lin(v, d)
    for l in range(config["num_hidden_layers"]):
        p = f"model.layers.{l}."
        w |= {p + "input_layernorm.weight": norm(d), p + "post_attention_layernorm.weight": norm(d),
              p + "self_attn.q_proj.weight": lin(h * hd, d), p + "self_attn.k_proj.weight": lin(kv * hd, d),
              p + "self_attn.v_proj.weight": lin(kv * hd, d), p + "self_attn.o_proj.weight": lin(d, h * hd),
              p + "mlp.gate_proj.weight": lin(f, d), p + "mlp.up_proj.weight": lin(f, d), p + "mlp.down_proj.weight": lin(d, f)}
        if config["model_type"] == "qwen2":
            for n, rows in (("q", h * hd), ("k", kv * hd), ("v", kv * hd)):
                w[p + f"self_attn.{n}_proj.bias"] = (0.1 * rng.standard_normal(rows)).astype(F32)
    return w


def int8_rows(x: np.ndarray) -> np.ndarray:
    """Each row of the last axis as the engine's 8-bit KV cache holds it (models/pipeline/reference_v2.py)."""
    top = np.abs(x).max(axis=-1, keepdims=True).astype(np.float64)
    inv = np.where(top > 0, 127 / np.where(top > 0, top, 1), 0)
    return (np.floor(x.astype(np.float64) * inv + 0.5) * (top / 127).astype(F32)).astype(F32)


def forward(w: dict, config: dict, ids: list, kv_int8: bool = False) -> np.ndarray:
    """Logits [T][V] of `ids` from position 0; kv_int8: keys and values stored as the engine's 8-bit KV cache."""
    d, h, kv = config["hidden_size"], config["num_attention_heads"], config["num_key_value_heads"]
    hd, eps, n = d // h, F32(config["rms_norm_eps"]), len(ids)
    inv = (float(config["rope_theta"]) ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)).astype(F32)
    ang = np.concatenate([np.arange(n, dtype=F32)[:, None] * inv] * 2, axis=-1)
    cos, sin = np.cos(ang), np.sin(ang)
    rms = lambda x, g: (x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * g).astype(F32)
    rot = lambda x: np.concatenate([-x[..., hd // 2:], x[..., :hd // 2]], axis=-1)
    x = w["model.embed_tokens.weight"][ids]
    for l in range(config["num_hidden_layers"]):
        p = f"model.layers.{l}."
        a = rms(x, w[p + "input_layernorm.weight"])
        proj = lambda name: a @ w[p + f"self_attn.{name}_proj.weight"].T + w.get(p + f"self_attn.{name}_proj.bias", F32(0))
        q = proj("q").reshape(n, h, hd).transpose(1, 0, 2)
        k = proj("k").reshape(n, kv, hd).transpose(1, 0, 2)
        v = proj("v").reshape(n, kv, hd).transpose(1, 0, 2)
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        if kv_int8:
            k, v = int8_rows(k), int8_rows(v)
        k, v = np.repeat(k, h // kv, axis=0), np.repeat(v, h // kv, axis=0)
        scores = (q @ k.transpose(0, 2, 1)) / F32(np.sqrt(hd))
        scores = np.where(np.tril(np.ones((n, n), bool)), scores, F32(-np.inf))
        e = np.exp(scores - scores.max(-1, keepdims=True))
        ctx = ((e / e.sum(-1, keepdims=True)) @ v).transpose(1, 0, 2).reshape(n, h * hd)
        x = x + ctx @ w[p + "self_attn.o_proj.weight"].T
        m = rms(x, w[p + "post_attention_layernorm.weight"])
        g = m @ w[p + "mlp.gate_proj.weight"].T
        x = x + ((g / (1 + np.exp(-g))) * (m @ w[p + "mlp.up_proj.weight"].T)) @ w[p + "mlp.down_proj.weight"].T
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return (rms(x, w["model.norm.weight"]) @ head.T).astype(F32)


def imported_weights(model_dir: Path) -> tuple[dict, dict]:
    """An imported v2 directory's weights, dequantized, under the Hugging Face names; its config."""
    manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    a = manifest["architecture"]
    t = read_weights_bin(model_dir / "weights.bin", a)
    _, ffn = read_ffn_bin(model_dir / "ffn.bin")
    h, kv, hd = a["heads"], a["kvHeads"], a["headDim"]
    w = {"model.embed_tokens.weight": t["embed"], "model.norm.weight": t["final_norm"]}
    if "head" in t:
        w["lm_head.weight"] = t["head"]
    cut = [h * hd, (h + kv) * hd]
    for l in range(a["layers"]):
        p, s = f"model.layers.{l}.", f"layers.{l}."
        q, k, v = np.split(t[s + "qkv"], cut)
        w |= {p + "input_layernorm.weight": t[s + "attn_norm"], p + "post_attention_layernorm.weight": t[s + "ffn_norm"],
              p + "self_attn.q_proj.weight": q, p + "self_attn.k_proj.weight": k, p + "self_attn.v_proj.weight": v,
              p + "self_attn.o_proj.weight": t[s + "out"], p + "mlp.gate_proj.weight": t[s + "ffn_gate"],
              p + "mlp.up_proj.weight": ffn[l].w_up, p + "mlp.down_proj.weight": ffn[l].w_down}
        if s + "qkv_bias" in t:
            for name, part in zip("qkv", np.split(t[s + "qkv_bias"], cut)):
                w[p + f"self_attn.{name}_proj.bias"] = part
    config = {"hidden_size": a["dModel"], "num_attention_heads": h, "num_key_value_heads": kv, "rms_norm_eps": a["normEps"],
              "rope_theta": a["ropeTheta"], "num_hidden_layers": a["layers"]}
    return w, config


def main() -> None:
    if sys.argv[1] == "write":
        out = Path(sys.argv[2])
        reference = {}
        for seed, (name, extra) in enumerate(MODELS.items()):
            config = {**SHAPE, **extra}
            w = random_weights(config, seed + 1)
            d = out / name
            d.mkdir(parents=True, exist_ok=True)
            save_file(w, str(d / "model.safetensors"))
            (d / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
            for f in ("tokenizer.json", "tokenizer_config.json"):
                shutil.copy(ROOT / "test" / "fixtures" / "import" / f"tiny-{name}" / f, d / f)
            reference[name] = {"ids": IDS, "logits": forward(w, config, IDS).tolist()}
        (out / "reference.json").write_text(json.dumps(reference), encoding="utf-8")
    elif sys.argv[1] == "imported":
        w, config = imported_weights(Path(sys.argv[2]))
        print(json.dumps(forward(w, config, IDS, kv_int8=True).tolist()))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
