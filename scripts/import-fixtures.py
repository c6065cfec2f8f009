"""Writes the importer's committed test fixtures (test/fixtures/import/) with PyPI's `gguf` and
`safetensors` — independent of the TypeScript importer they test. Run with the venv of
scripts/import-venv.sh: `$(bash scripts/import-venv.sh) scripts/import-fixtures.py`.

quants.gguf: for every ggml type the importer reads, a [2, 256] tensor `<type>` and `<type>.expected`
(F32), the `gguf` package's own dequantization of it. F32/F16/BF16/Q8_0/Q4_0/Q4_1 are written by
gguf.quants.quantize; the K-quants (which it cannot quantize) are random blocks with sane scales.

tiny-llama/ (BF16 weights, F32 norms, untied head, two shards with an index) and tiny-qwen2/ (F16,
tied, attention biases, ChatML template): random Hugging Face checkpoints with a byte-level tokenizer.
"""
import json
import sys
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType as T, GGUFWriter
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize, quantize
from safetensors.numpy import save_file

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "import"
rng = np.random.default_rng(20261204)


def k_quant_blocks(qtype: T, n_blocks: int) -> np.ndarray:
    """Random K-quant blocks whose f16 super-block scales are small positive numbers."""
    _, size = GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    scale_at = {T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208]}[qtype]
    for at in scale_at:
        raw[:, at:at + 2] = np.frombuffer(rng.uniform(0.001, 0.02, n_blocks).astype(np.float16).tobytes(), np.uint8).reshape(n_blocks, 2)
    return raw


def write_quants() -> None:
    w = GGUFWriter(str(OUT / "quants.gguf"), "quants-fixture")
    values = (rng.standard_normal((2, 256)) * 0.05).astype(np.float32)
    values[1, :32] = 0  # a zero block
    for qtype in [T.F32, T.F16, T.BF16, T.Q8_0, T.Q4_0, T.Q4_1, T.Q4_K, T.Q5_K, T.Q6_K]:
        if qtype in (T.Q4_K, T.Q5_K, T.Q6_K):
            data = k_quant_blocks(qtype, 2).reshape(2, -1)
        else:
            data = quantize(values, qtype)
        expected = dequantize(data, qtype).astype(np.float32).reshape(2, 256)
        if qtype in (T.F32, T.F16):
            w.add_tensor(qtype.name, data)
        else:
            w.add_tensor(qtype.name, data, raw_shape=data.shape, raw_dtype=qtype)
        w.add_tensor(qtype.name + ".expected", expected)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def bytes_to_unicode() -> dict[int, str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def tokenizer(specials: list[str]) -> dict:
    vocab = {ch: i for i, ch in enumerate(bytes_to_unicode().values())}
    added = []
    for s in specials:
        vocab[s] = len(vocab)
        added.append({"id": vocab[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True})
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": None, "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False, "vocab": vocab, "merges": []},
    }


def hf_weights(cfg: dict, dtype, bias: bool, tied: bool) -> dict[str, np.ndarray]:
    d, h, kv, f, v = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["intermediate_size"], cfg["vocab_size"]
    hd = d // h
    r = lambda *shape: (rng.standard_normal(shape) * 0.1).astype(dtype)
    t = {"model.embed_tokens.weight": r(v, d), "model.norm.weight": (1 + r(d)).astype(np.float32)}
    if not tied:
        t["lm_head.weight"] = r(v, d)
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        t[p + "input_layernorm.weight"] = (1 + r(d)).astype(np.float32)
        t[p + "post_attention_layernorm.weight"] = (1 + r(d)).astype(np.float32)
        t[p + "self_attn.q_proj.weight"] = r(h * hd, d)
        t[p + "self_attn.k_proj.weight"] = r(kv * hd, d)
        t[p + "self_attn.v_proj.weight"] = r(kv * hd, d)
        t[p + "self_attn.o_proj.weight"] = r(d, h * hd)
        if bias:
            for n, rows in (("q", h * hd), ("k", kv * hd), ("v", kv * hd)):
                t[p + f"self_attn.{n}_proj.bias"] = r(rows)
        t[p + "mlp.gate_proj.weight"] = r(f, d)
        t[p + "mlp.up_proj.weight"] = r(f, d)
        t[p + "mlp.down_proj.weight"] = r(d, f)
    return t


def write_checkpoint(name: str, cfg: dict, weights: dict, specials: list[str], tok_cfg: dict, shards: int) -> None:
    d = OUT / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.json").write_text(json.dumps(cfg, indent=2))
    (d / "tokenizer.json").write_text(json.dumps(tokenizer(specials)))
    (d / "tokenizer_config.json").write_text(json.dumps(tok_cfg, indent=2))
    names = list(weights)
    if shards == 1:
        save_file(weights, str(d / "model.safetensors"))
        return
    weight_map = {}
    for s in range(shards):
        file = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        part = {n: weights[n] for n in names[s::shards]}
        save_file(part, str(d / file))
        weight_map.update({n: file for n in part})
    (d / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}, indent=2))


def bf16(x: np.ndarray) -> np.ndarray:
    """float32 → bfloat16 bits (round to nearest even), as safetensors.numpy has no bfloat16 dtype."""
    bits = x.astype(np.float32).view(np.uint32)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    write_quants()
    base = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
            "num_key_value_heads": 1, "rms_norm_eps": 1e-5, "hidden_act": "silu"}
    llama = {**base, "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 264,
             "rope_theta": 500000.0, "max_position_embeddings": 16384, "tie_word_embeddings": False, "rope_scaling": None}
    llama_specials = ["<|endoftext|>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>"]
    w = hf_weights(llama, np.float32, bias=False, tied=False)
    # BF16 matrices (stored as uint16 bit patterns, dtype fixed up below), F32 norms
    write_checkpoint("tiny-llama", llama, w, llama_specials, {"eos_token": "<|endoftext|>"}, shards=2)
    fix_bf16(OUT / "tiny-llama", w)
    qwen2 = {**base, "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 264, "rope_theta": 1000000.0,
             "max_position_embeddings": 4096, "tie_word_embeddings": True, "use_sliding_window": False, "sliding_window": 4096}
    qwen_specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_sep|>"]
    template = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}<|im_start|>assistant\n"
    write_checkpoint("tiny-qwen2", qwen2, hf_weights(qwen2, np.float16, bias=True, tied=True), qwen_specials,
                     {"eos_token": "<|im_end|>", "chat_template": template}, shards=1)


def fix_bf16(d: Path, weights: dict) -> None:
    """Rewrites the 2-D tensors of each shard as BF16 (safetensors' numpy API cannot write it)."""
    for file in sorted(d.glob("*.safetensors")):
        raw = file.read_bytes()
        n = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8:8 + n])
        names = [k for k in header if k != "__metadata__"]
        names.sort(key=lambda k: header[k]["data_offsets"][0])
        new_header, blobs, at = {}, [], 0
        for k in names:
            x = weights[k]
            blob = bf16(x).tobytes() if x.ndim == 2 else x.astype(np.float32).tobytes()
            new_header[k] = {"dtype": "BF16" if x.ndim == 2 else "F32", "shape": list(x.shape), "data_offsets": [at, at + len(blob)]}
            blobs.append(blob)
            at += len(blob)
        h = json.dumps(new_header).encode()
        h += b" " * (-len(h) % 8)
        file.write_bytes(len(h).to_bytes(8, "little") + h + b"".join(blobs))


if __name__ == "__main__":
    sys.exit(main())
