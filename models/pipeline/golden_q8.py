"""The format-v2 goldens (make_golden.py writes them): test/golden/weights-q8.bin, ffn-q8.bin (ReLU-gated
records), ffn-q8-ungated.bin (silu: up and down only) and q8-golden.json.

Values are closed-form (golden_q8_values) and hit every corner of the q8_32 rule on purpose: halfway
ties (both signs; half-to-even decides), all-zero blocks, blocks whose scale rounds to 0 in f16,
f16-subnormal scales (with clamped quants), scales that round up, down and halfway to an f16 value,
±max (q = ±127) and large magnitudes up to f16's largest scale, 65504. q8-golden.json lists each
tensor's input values with the quants and scales the writer stored, so the TypeScript quantizer is
checked byte for byte against these files.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

import jsonfmt
from flashcode_format import DTYPE_Q8, FfnLayer, Q8_BLOCK, encode_ffn_bin, layer_records, parse_ffn_header, read_ffn_q8
from flashcode_format_v2 import decode_q8, encode_weights_bin, parse_weights_bin, tensor_specs

# Every optional tensor present: untied head, head_bias, attention bias, silu gate.
GOLDEN_ARCH = {
    "family": "llama", "layers": 1, "dModel": 32, "heads": 1, "kvHeads": 1, "headDim": 32, "ffnSize": 32,
    "ffnActivation": "silu", "ffnGated": True, "ropeTheta": 10000.0, "normEps": 1e-5, "vocabSize": 4,
    "tiedEmbeddings": False, "attentionBias": True,
}
# (file name, layers, dModel, ffnSize, gated records)
GOLDEN_FFN_Q8_FILES = [("ffn-q8.bin", 2, 64, 3, True), ("ffn-q8-ungated.bin", 1, 32, 2, False)]
BLOCK_KINDS = 8


def golden_q8_values(t: int, rows: int, cols: int) -> np.ndarray:
    """[rows, cols] f32; block b of row r is of kind (r + b + t) mod 8, each block's first value its
    largest magnitude (so max/127 is known):
    0 zeros;
    1 ties: s·(m + ½) with s = 2^−(t mod 5 + 3), m = (7r + c) mod 254 − 127, first value 127·s (the
      scale is exactly s, an f16 value);
    2 (c − 16)·2^−30, first value 127·2^−25: max/127 = 2^−25 is halfway between 0 and f16's smallest
      subnormal and ties to even: scale 0, q = 0;
    3 (c − 16)·3·2^−(19 + t mod 5): max/127 between 0.76 and 12.1 times 2^−24, an f16-subnormal scale
      (rounded to a multiple of 2^−24, often down, so max/scale reaches 128 and q is clamped to −127);
    4 v = ((131r + 71c + 17t) mod 997 − 498)/97.25, first value −max|v| (q = −127): max/127 rounds up
      or down to an f16 value;
    5 v, first value −127·(1 + k·2^−11), k = 1 + 2((⌊r/8⌋ + t) mod 2): max/127 is halfway between two f16
      values and ties to even (down to 1 for k = 1, up to 1 + 2^−9 for k = 3);
    6 v times 2^20: scales near 2^15, in f16's top binade;
    7 v times 2^20, first value −127·65519: max/127 = 65519 rounds down to 65504, f16's largest value
      (127·65520 would not fit: quantize_q8 refuses it)."""
    out = np.zeros((rows, cols), dtype=np.float32)
    for r in range(rows):
        for b in range(cols // Q8_BLOCK):
            kind = (r + b + t) % BLOCK_KINDS
            cs = np.arange(b * Q8_BLOCK, (b + 1) * Q8_BLOCK)
            v = ((131 * r + 71 * cs + 17 * t) % 997 - 498) / 97.25
            if kind == 0:
                block = np.zeros(Q8_BLOCK)
            elif kind == 1:
                s = 2.0 ** -(t % 5 + 3)
                block = s * (((7 * r + cs) % 254 - 127) + 0.5)
                block[0] = 127 * s
            elif kind == 2:
                block = (cs - 16) * 2.0 ** -30
                block[0] = 127 * 2.0 ** -25
            elif kind == 3:
                block = (cs - 16) * 3 * 2.0 ** -(19 + t % 5)
            elif kind == 4:
                block = v
                block[0] = -np.max(np.abs(v))
            elif kind == 5:
                block = v
                block[0] = -127 * (1 + (1 + 2 * ((r // BLOCK_KINDS + t) % 2)) * 2.0 ** -11)
            else:
                block = v * 2.0 ** 20
                block[0] = -np.max(np.abs(block)) if kind == 6 else -127 * 65519
            out[r, cs] = block
    return out


def golden_f32_values(t: int, n: int) -> np.ndarray:
    """(i mod 7 − 3)/8 + t/16: exact in f32."""
    return ((np.arange(n) % 7 - 3) / 8 + t / 16).astype(np.float32)


def golden_weights() -> dict[str, np.ndarray]:
    out = {}
    for t, (name, spec) in enumerate(tensor_specs(GOLDEN_ARCH).items()):
        out[name] = golden_f32_values(t, spec.shape[0]) if spec.dtype == "f32" else golden_q8_values(t, *spec.shape)
    return out


def golden_ffn_layers(layers: int, d: int, ffn_size: int, gated: bool) -> list[FfnLayer]:
    """Part p (gate, up, down column) of neuron j of layer l: row j of golden_q8_values(10l + p, ffnSize, d)."""
    out = []
    for l in range(layers):
        parts = [golden_q8_values(10 * l + p, ffn_size, d) for p in range(3)]
        out.append(FfnLayer(w_gate=parts[0] if gated else None, w_up=parts[1], w_down=parts[2].T.copy()))
    return out


def _floats(a: np.ndarray) -> list:
    return [float(x) for x in np.asarray(a, dtype=np.float32).reshape(-1)]


def weights_entry(data: bytes, values: dict[str, np.ndarray]) -> dict:
    data_start, table = parse_weights_bin(data, GOLDEN_ARCH)
    tensors = []
    for name, e in table.items():
        entry = {k: e[k] for k in ("name", "dtype", "shape", "offset", "bytes")}
        entry["values"] = _floats(values[name])  # the writer's input, row-major
        if e["dtype"] == "q8_32":
            q, scale = decode_q8(data, *e["shape"], e["offset"])
            entry["quants"] = [int(x) for x in q.reshape(-1)]
            entry["scales"] = _floats(scale)
        tensors.append(entry)
    return {"file": "weights-q8.bin", "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "dataStart": data_start, "architecture": GOLDEN_ARCH, "tensors": tensors}


def ffn_entry(name: str, data: bytes, layers: list[FfnLayer]) -> dict:
    h = parse_ffn_header(data)
    stored = [read_ffn_q8(data, h, l) for l in range(h.layers)]
    return {
        "file": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
        "header": {"version": h.version, "layers": h.layers, "dModel": h.d_model, "ffnSize": h.ffn_size,
                   "dtype": h.dtype, "gated": h.gated, "recordBytes": h.record_bytes, "alignment": h.alignment,
                   "fileBytes": h.file_bytes, "layerTable": [{"dataOffset": o, "dataBytes": b} for o, b in h.layer_table]},
        # records[l][j]: the writer's input for neuron j (gate row | up row | down column), f32.
        "records": [[_floats(row) for row in layer_records(layer)] for layer in layers],
        # As stored: quants[l][j] (parts × d), scales[l][j] (parts × d/32).
        "quants": [[[int(x) for x in row] for row in q] for q, _ in stored],
        "scales": [[_floats(row) for row in s] for _, s in stored],
    }


def write_q8_goldens(out: Path) -> list[str]:
    values = golden_weights()
    data = encode_weights_bin(values, GOLDEN_ARCH)
    (out / "weights-q8.bin").write_bytes(data)
    golden = {"weights": weights_entry(data, values), "ffn": []}
    for name, *shape in GOLDEN_FFN_Q8_FILES:
        layers = golden_ffn_layers(*shape)
        ffn = encode_ffn_bin(layers, DTYPE_Q8)
        (out / name).write_bytes(ffn)
        golden["ffn"].append(ffn_entry(name, ffn, layers))
    (out / "q8-golden.json").write_text(jsonfmt.dumps(golden) + "\n", encoding="utf-8")
    return ["weights-q8.bin", *(n for n, *_ in GOLDEN_FFN_Q8_FILES), "q8-golden.json"]
