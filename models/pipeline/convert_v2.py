"""Converts a format-v1 model directory (ONNX graphs + ffn.bin) into a format-v2 one (weights.bin +
ffn.bin version 3, q8_32), e.g. to ship the bundled model in v2 later.

The weights come from the graphs' initializers (FORMAT.md §2 names them) and ffn.bin (any dtype,
decoded to f32), and are quantised once to q8_32. predictors.bin is copied unchanged (its recall and
precision in the manifest were measured on the v1 weights; `notes` says so). tokenizer.json is copied.

    /usr/bin/python3 models/pipeline/convert_v2.py V1_DIR OUT_DIR
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from flashcode_format import read_ffn_bin, verify_manifest_files, write_manifest
from flashcode_format_v2 import write_model_dir_v2
from reference_v2 import rope_inv_freq

# v1 manifest keys carried over unchanged (graphs is dropped; weights/ffn/quantization are v2's own).
CARRIED = ("id", "displayName", "contextTokens", "fim", "stopTokens", "sparsity", "predictors")


def _initializers(path: Path) -> dict[str, np.ndarray]:
    return {t.name: numpy_helper.to_array(t).astype(np.float32) for t in onnx.load(str(path)).graph.initializer}


def v2_tensors(v1_dir: Path, manifest: dict) -> dict[str, np.ndarray]:
    """weights.bin's tensors (f32) from a v1 directory's graphs: projections transposed back to
    out × in, Q/K/V stacked, the head's logit bias kept only when it is not all zeros."""
    arch, graphs = manifest["architecture"], manifest["graphs"]
    head = _initializers(v1_dir / graphs["head"])
    embed = head["lm_head_t"].T if arch["tiedEmbeddings"] else _initializers(v1_dir / graphs["embed"])["embed.weight"]
    tensors = {"embed": np.ascontiguousarray(embed)}
    if not arch["tiedEmbeddings"]:
        tensors["head"] = np.ascontiguousarray(head["lm_head_t"].T)
    if np.any(head["logit_bias"] != 0):
        tensors["head_bias"] = head["logit_bias"]
    tensors["final_norm"] = head["final_norm.weight"]
    expected_freq = rope_inv_freq(arch["ropeTheta"], arch["headDim"])
    for l, name in enumerate(graphs["attention"]):
        w = _initializers(v1_dir / name)
        # v2 fixes θᵢ by formula (f64, then f32); PyTorch's f32 computation (the bundled model's, and
        # Hugging Face's) differs from it by at most an ulp, which is harmless. Anything else is not RoPE θ.
        if not np.allclose(w["rope.inv_freq"], expected_freq, rtol=1e-6, atol=0):
            raise ValueError(f"{name}: rope.inv_freq is not ropeTheta^(-2i/hd); format v2 has no room for other frequencies")
        tensors[f"layers.{l}.attn_norm"] = w["attn_norm.weight"]
        tensors[f"layers.{l}.qkv"] = np.ascontiguousarray(np.concatenate([w["wq_t"].T, w["wk_t"].T, w["wv_t"].T]))
        tensors[f"layers.{l}.out"] = np.ascontiguousarray(w["wo_t"].T)
        tensors[f"layers.{l}.ffn_norm"] = w["ffn_norm.weight"]
    return tensors


def convert(v1_dir: Path, out: Path) -> dict:
    v1_dir, out = Path(v1_dir), Path(out)
    manifest = verify_manifest_files(v1_dir)
    if manifest["formatVersion"] != 1:
        raise ValueError(f"{v1_dir} is format v{manifest['formatVersion']}, not v1")
    arch = {**manifest["architecture"], "attentionBias": False}
    if arch["dModel"] % 32 or (arch["heads"] * arch["headDim"]) % 32:
        raise ValueError("q8_32 needs dModel and heads × headDim multiples of 32")
    if out.exists():
        shutil.rmtree(out)
    _, ffn = read_ffn_bin(v1_dir / manifest["ffn"]["file"])
    notes = (f"Converted from the format-v1 directory {manifest['id']} by models/pipeline/convert_v2.py: "
             "weights quantised to q8_32.")
    if "predictors" in manifest:
        notes += " predictors.bin is v1's, unchanged; its recall and precision were measured on the v1 weights."
    v2 = {k: manifest[k] for k in CARRIED if k in manifest and k != "predictors"}
    v2.update(architecture=arch, notes=notes + (" " + manifest["notes"] if manifest.get("notes") else ""))
    full = write_model_dir_v2(out, v2, v2_tensors(v1_dir, manifest), ffn, (v1_dir / "tokenizer.json").read_bytes())
    if "predictors" in manifest:
        shutil.copyfile(v1_dir / manifest["predictors"]["file"], out / manifest["predictors"]["file"])
        full["predictors"] = manifest["predictors"]
        full = write_manifest(out, {k: v for k, v in full.items() if k != "files"})
    return full


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("v1_dir", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    m = convert(args.v1_dir, args.out)
    print(f"wrote {args.out}: " + ", ".join(f"{n} {e['bytes']}" for n, e in m["files"].items()))


if __name__ == "__main__":
    main()
