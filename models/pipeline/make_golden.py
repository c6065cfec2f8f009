"""Writes the cross-language format goldens: test/golden/ffn-f32.bin, ffn-f16.bin, ffn-int8.bin,
ffn-golden.json and predictors-f32.bin, predictors-f16.bin, predictors-golden.json; and format v2's
weights-q8.bin, ffn-q8.bin, ffn-q8-ungated.bin, q8-golden.json (golden_q8.py) and weights-q4.bin,
q4-golden.json (golden_q4.py).

Values come from closed-form formulas (test/golden/README.md) chosen to be exact in f16 and f32, and
for int8 to quantise exactly (a power-of-two scale, ±127 in every part), so the JSON can list them
as plain numbers and a reader compares with ===.

    /usr/bin/python3 models/pipeline/make_golden.py [--out test/golden]
"""
from __future__ import annotations

import argparse
import hashlib
import jsonfmt
from pathlib import Path

import numpy as np

from flashcode_format import (DTYPE_F16, DTYPE_F32, DTYPE_I8, FfnLayer, PredictorLayer, encode_ffn_bin,
                              encode_predictors_bin, layer_records, parse_ffn_header, parse_predictors_header,
                              read_ffn_int8)
from golden_q4 import write_q4_golden
from golden_q8 import write_q8_goldens

REPO = Path(__file__).resolve().parents[2]

# (file name, layers, dModel, ffnSize, gated, dtype code)
GOLDEN_FILES = [
    ("ffn-f32.bin", 2, 8, 3, True, DTYPE_F32),
    ("ffn-f16.bin", 1, 4, 2, False, DTYPE_F16),
]

# (file name, layers, dModel, ffnSize, gated), dtype int8; values from golden_int8_layers. dModel 6
# makes recordBytes 30, so most records (and their scales) start off a 4-byte boundary.
GOLDEN_INT8_FILES = [
    ("ffn-int8.bin", 2, 6, 3, True),
]
# (layer, part, neuron) of the one all-zero part (part 0 gate, 1 up, 2 down): its scale is 0.
GOLDEN_INT8_ZERO_PART = (1, 1, 1)

# (file name, dtype code); both hold the same predictors: dModel 4, ffnSize 6, ranks 2 and 3.
GOLDEN_PREDICTOR_FILES = [
    ("predictors-f32.bin", DTYPE_F32),
    ("predictors-f16.bin", DTYPE_F16),
]
PREDICTOR_D_MODEL = 4
PREDICTOR_FFN_SIZE = 6
PREDICTOR_RANKS = (2, 3)
PREDICTOR_THRESHOLDS = (0.5, -1.25)


def golden_value(l: int, j: int, k: int) -> float:
    """(l + 1) + j/8 + k/256: at most 10 significant bits for l < 4, j < 8, k < 64, so f16-exact."""
    return (l + 1) + j / 8 + k / 256


def golden_layers(layers: int, d_model: int, ffn_size: int, gated: bool) -> list[FfnLayer]:
    """W_gate[l][j][k] = v, W_up[l][j][k] = -v, W_down[l][k][j] = v/2 with v = golden_value(l, j, k)."""
    out = []
    for l in range(layers):
        v = np.array([[golden_value(l, j, k) for k in range(d_model)] for j in range(ffn_size)])  # [ffnSize, d]
        out.append(FfnLayer(w_gate=v.copy() if gated else None, w_up=-v, w_down=(v / 2).T.copy()))
    return out


def golden_int8_q(l: int, p: int, j: int, k: int, d_model: int) -> int:
    """The int8 value of part p of neuron j at input k: ±127 (sign (−1)^(l+p+j)) at k = (l + p + j) mod d,
    else (−1)^p · (16k + 8j + l − 40); 0 everywhere in GOLDEN_INT8_ZERO_PART."""
    if (l, p, j) == GOLDEN_INT8_ZERO_PART:
        return 0
    if k == (l + p + j) % d_model:
        return 127 * (-1) ** (l + p + j)
    return (-1) ** p * (16 * k + 8 * j + l - 40)


def golden_int8_scale(l: int, p: int, j: int) -> float:
    """2^−(l + p + j + 1): with ±127 in the part, max|part| / 127 is exactly this (0 for the zero part)."""
    return 0.0 if (l, p, j) == GOLDEN_INT8_ZERO_PART else 2.0 ** -(l + p + j + 1)


def golden_int8_layers(layers: int, d_model: int, ffn_size: int, gated: bool) -> list[FfnLayer]:
    """Part p of neuron j (gate row, up row, down column) = golden_int8_q · golden_int8_scale, exact in
    f32, so the writer's quantisation gives back exactly those q and scales."""
    out = []
    parts = (0, 1, 2) if gated else (1, 2)
    for l in range(layers):
        w = {p: np.array([[golden_int8_q(l, p, j, k, d_model) * golden_int8_scale(l, p, j) for k in range(d_model)]
                          for j in range(ffn_size)]) for p in parts}  # [ffnSize, d] per part
        out.append(FfnLayer(w_gate=w[0] if gated else None, w_up=w[1], w_down=w[2].T.copy()))
    return out


def golden_predictor_layers() -> list[PredictorLayer]:
    """A[l][i][k] = v(l, i, k), B[l][k][j] = -v(l, k, j)/2, bias[l][j] = (j - 3)/4 - l/8; per-layer thresholds."""
    d, k = PREDICTOR_D_MODEL, PREDICTOR_FFN_SIZE
    out = []
    for l, (rank, threshold) in enumerate(zip(PREDICTOR_RANKS, PREDICTOR_THRESHOLDS)):
        a = np.array([[golden_value(l, i, c) for c in range(rank)] for i in range(d)])        # [d, r]
        b = np.array([[-golden_value(l, c, j) / 2 for j in range(k)] for c in range(rank)])  # [r, ffnSize]
        bias = np.array([(j - 3) / 4 - l / 8 for j in range(k)])                            # [ffnSize]
        out.append(PredictorLayer(a=a, b=b, bias=bias, threshold=threshold))
    return out


def golden_entry(name: str, data: bytes, layers: list[FfnLayer]) -> dict:
    h = parse_ffn_header(data)
    entry = {
        "file": name,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "header": {
            "magic": "FCFF", "version": h.version, "headerBytes": h.header_bytes, "layers": h.layers,
            "dModel": h.d_model, "ffnSize": h.ffn_size, "dtype": h.dtype, "flags": int(h.gated),
            "gated": h.gated, "recordBytes": h.record_bytes, "alignment": h.alignment,
            "fileBytes": h.file_bytes,
            "layerTable": [{"dataOffset": o, "dataBytes": b} for o, b in h.layer_table],
        },
        # records[l][j]: the record of neuron j of layer l, in file order (gate | up | down column).
        "records": [[[float(x) for x in row] for row in layer_records(layer)] for layer in layers],
    }
    if h.dtype == DTYPE_I8:
        # As stored: scales[l][j] one per part, int8[l][j] the parts' values; records = int8 × scale.
        stored = [read_ffn_int8(data, h, l) for l in range(h.layers)]
        entry["scales"] = [[[float(x) for x in row] for row in scale] for scale, _ in stored]
        entry["int8"] = [[[int(x) for x in row] for row in q] for _, q in stored]
    return entry


def predictors_golden_entry(name: str, data: bytes, layers: list[PredictorLayer]) -> dict:
    h = parse_predictors_header(data)
    return {
        "file": name,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "header": {
            "magic": "FCPR", "version": h.version, "headerBytes": h.header_bytes, "layers": h.layers,
            "dModel": h.d_model, "ffnSize": h.ffn_size, "dtype": h.dtype, "flags": 0, "fileBytes": h.file_bytes,
            "layerTable": [{"dataOffset": o, "dataBytes": b, "rank": r, "threshold": t} for o, b, r, t in h.layer_table],
        },
        # layers[l]: a [dModel][rank], b [rank][ffnSize], bias [ffnSize], as stored.
        "layers": [{"a": [[float(x) for x in row] for row in layer.a],
                    "b": [[float(x) for x in row] for row in layer.b],
                    "bias": [float(x) for x in layer.bias]} for layer in layers],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "test" / "golden")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    entries = []
    ffn_files = [(name, golden_layers(*shape), dtype) for name, *shape, dtype in GOLDEN_FILES]
    ffn_files += [(name, golden_int8_layers(*shape), DTYPE_I8) for name, *shape in GOLDEN_INT8_FILES]
    for name, layers, dtype in ffn_files:
        data = encode_ffn_bin(layers, dtype)
        (args.out / name).write_bytes(data)
        entries.append(golden_entry(name, data, layers))
    (args.out / "ffn-golden.json").write_text(jsonfmt.dumps({"files": entries}) + "\n", encoding="utf-8")

    predictor_entries = []
    for name, dtype in GOLDEN_PREDICTOR_FILES:
        layers = golden_predictor_layers()
        data = encode_predictors_bin(layers, dtype)
        (args.out / name).write_bytes(data)
        predictor_entries.append(predictors_golden_entry(name, data, layers))
    (args.out / "predictors-golden.json").write_text(jsonfmt.dumps({"files": predictor_entries}) + "\n",
                                                      encoding="utf-8")
    names = [e["file"] for e in entries + predictor_entries] + ["ffn-golden.json", "predictors-golden.json"]
    names += write_q8_goldens(args.out)
    names += write_q4_golden(args.out)
    print(f"wrote {', '.join(names)} to {args.out}")


if __name__ == "__main__":
    main()
