"""Copies a model directory with its ffn.bin rewritten in another dtype (models/FORMAT.md §3), to
compare int8, float16 and float32 FFN weights side by side.

    /usr/bin/python3 models/pipeline/convert_ffn.py --model-dir SRC --out DST --dtype int8|f16|f32

SRC's files are checked against its manifest first. DST must not exist or be empty. ffn.bin is
decoded to f32 (float16 widens, int8 dequantises) and written in --dtype: int8 as version 2 with
per-part scales, float16 and float32 as version 1. A file already in --dtype is copied unchanged
(re-quantising int8 would not be guaranteed to give the same bytes).

manifest.json changes in two places: `files` gets ffn.bin's new bytes and sha256, and `notes`, if it
says "ffn.bin as <dtype>" (export_model.py writes that), names the new dtype and the one the model
was exported in. Everything else is copied byte for byte, the manifest's `sparsity` and `predictors`
figures included: they stay those measured on the source weights.

Prints one line: the dtype, recordBytes and ffn.bin bytes before → after, and the largest change of
any weight. Exit 2, with the reason on stderr, when SRC does not verify or DST is not empty.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np

from flashcode_format import (DTYPE_F16, DTYPE_F32, DTYPE_I8, DTYPE_NAMES, ModelFileCorruptError,
                              ModelFormatUnsupportedError, decode_ffn_bin, encode_ffn_bin, file_entry,
                              layer_records, verify_manifest_files)

DTYPE_ARGS = {"int8": DTYPE_I8, "f16": DTYPE_F16, "f32": DTYPE_F32}
CONVERTED_BY = "models/pipeline/convert_ffn.py"


def converted_notes(notes: str, old: int, new: int) -> str:
    """`notes` with "ffn.bin as <old dtype>" naming `new` and the dtype the model was exported in."""
    names = "|".join(DTYPE_NAMES.values())
    pattern = re.compile(rf"ffn\.bin as {DTYPE_NAMES[old]}(?: \(converted from ({names}) by {re.escape(CONVERTED_BY)}\))?")

    def rewrite(match: re.Match) -> str:
        exported = match.group(1) or DTYPE_NAMES[old]
        if exported == DTYPE_NAMES[new]:
            return f"ffn.bin as {exported}"
        return f"ffn.bin as {DTYPE_NAMES[new]} (converted from {exported} by {CONVERTED_BY})"

    return pattern.sub(rewrite, notes)


def convert(model_dir: Path, out: Path, dtype: int) -> dict:
    """Writes `out` as `model_dir` with ffn.bin in `dtype`; returns what changed (the printed figures)."""
    model_dir, out = Path(model_dir), Path(out)
    manifest = verify_manifest_files(model_dir)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty")
    ffn_name = manifest["ffn"]["file"]
    source = (model_dir / ffn_name).read_bytes()
    header, layers = decode_ffn_bin(source)

    if header.dtype == dtype:
        data, max_change = source, 0.0
    else:
        data = encode_ffn_bin(layers, dtype)
        _, back = decode_ffn_bin(data)
        max_change = max(float(np.abs(layer_records(a) - layer_records(b)).max()) for a, b in zip(layers, back))
    new_header, _ = decode_ffn_bin(data)

    shutil.copytree(model_dir, out, dirs_exist_ok=True)
    (out / ffn_name).write_bytes(data)
    manifest["files"][ffn_name] = file_entry(out / ffn_name)
    if "notes" in manifest:
        manifest["notes"] = converted_notes(manifest["notes"], header.dtype, dtype)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    verify_manifest_files(out)
    return {
        "from": DTYPE_NAMES[header.dtype], "to": DTYPE_NAMES[dtype],
        "recordBytes": (header.record_bytes, new_header.record_bytes),
        "bytes": (len(source), len(data)),
        "maxAbsChange": max_change,
        "maxAbsWeight": max(float(np.abs(layer_records(layer)).max()) for layer in layers),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--dtype", choices=list(DTYPE_ARGS), required=True)
    args = parser.parse_args(argv)
    try:
        r = convert(args.model_dir, args.out, DTYPE_ARGS[args.dtype])
    except (ModelFileCorruptError, ModelFormatUnsupportedError, FileNotFoundError, FileExistsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}: ffn.bin {r['from']} → {r['to']}, recordBytes {r['recordBytes'][0]} → "
          f"{r['recordBytes'][1]}, {r['bytes'][0]} → {r['bytes'][1]} bytes; largest weight change "
          f"{r['maxAbsChange']:.3g} (largest weight {r['maxAbsWeight']:.3g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
