"""The q4_32 golden (make_golden.py writes it): test/golden/weights-q4.bin, a weights.bin version 2 in
which every matrix but `head` is q4_32 (head stays q8_32, so a mixed file is pinned too), and
q4-golden.json listing each tensor's input values with the nibbles, scales and mins the writer stored.

Values are closed-form (golden_q4_values) and hit every corner of the q4_32 rule on purpose: halfway
ties (half-to-even decides), blocks of zeros with a −0 among them (min and scale must come out +0),
constant blocks (scale 0, the value in min), subnormal spans whose scale is subnormal, all-positive
blocks (min > 0, as in Q4_1 files) and large magnitudes. The TypeScript quantizer (quantizeQ4) is
checked byte for byte against it.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

import jsonfmt
from flashcode_format_v2 import Q4_BLOCK, decode_q4, encode_weights_bin, parse_weights_bin, tensor_specs
from flashcode_format import decode_q8
from golden_q8 import GOLDEN_ARCH, golden_f32_values

GOLDEN_Q4_FILE = "weights-q4.bin"
Q4_KINDS = 6


def golden_q4_values(t: int, rows: int, cols: int) -> np.ndarray:
    """[rows, cols] f32; block b of row r is of kind (r + b + t) mod 6:
    0 zeros, value 5 of the block −0; 1 ties: m + s·(j + ½) for j = (5r + c) mod 15, s = 2^−(t mod 4 + 2),
    m = (t − 3)/4, with its first value m and its second m + 15s (so min = m and scale = s exactly);
    2 the constant (r − t)/8; 3 (c − 16)·2^−149 (subnormal span, subnormal scale); 4
    ((131r + 71c + 17t) mod 997 − 498)/97.25 + 6 (all positive); 5 kind 4 without the +6, times 2^100."""
    out = np.zeros((rows, cols), dtype=np.float32)
    for r in range(rows):
        for b in range(cols // Q4_BLOCK):
            kind = (r + b + t) % Q4_KINDS
            cs = np.arange(b * Q4_BLOCK, (b + 1) * Q4_BLOCK)
            if kind == 0:
                block = np.zeros(Q4_BLOCK)
                block[5] = -0.0
            elif kind == 1:
                s, m = 2.0 ** -(t % 4 + 2), (t - 3) / 4
                block = m + s * (((5 * r + cs) % 15) + 0.5)
                block[0], block[1] = m, m + 15 * s
            elif kind == 2:
                block = np.full(Q4_BLOCK, (r - t) / 8)
            elif kind == 3:
                block = (cs - 16) * 2.0 ** -149
            else:
                block = ((131 * r + 71 * cs + 17 * t) % 997 - 498) / 97.25
                block = block + 6 if kind == 4 else block * 2.0 ** 100
            out[r, cs] = block
    return out


def golden_q4_weights() -> tuple[dict[str, np.ndarray], list[str]]:
    """Every tensor of GOLDEN_ARCH and the names stored as q4_32 (all matrices but head)."""
    out, q4 = {}, []
    for t, (name, spec) in enumerate(tensor_specs(GOLDEN_ARCH).items()):
        if spec.dtype == "f32":
            out[name] = golden_f32_values(t, spec.shape[0])
            continue
        out[name] = golden_q4_values(t, *spec.shape)
        if name != "head":
            q4.append(name)
    return out, q4


def _floats(a: np.ndarray) -> list:
    return [float(x) for x in np.asarray(a, dtype=np.float32).reshape(-1)]


def write_q4_golden(out: Path) -> list[str]:
    values, q4 = golden_q4_weights()
    data = encode_weights_bin(values, GOLDEN_ARCH, q4)
    (out / GOLDEN_Q4_FILE).write_bytes(data)
    data_start, table = parse_weights_bin(data, GOLDEN_ARCH)
    tensors = []
    for name, e in table.items():
        entry = {k: e[k] for k in ("name", "dtype", "shape", "offset", "bytes")}
        entry["values"] = _floats(values[name])  # the writer's input, row-major
        if e["dtype"] == "q4_32":
            nibbles, scale, lo = decode_q4(data, *e["shape"], e["offset"])
            entry["nibbles"] = [int(x) for x in nibbles.reshape(-1)]
            entry["scales"] = _floats(scale)
            entry["mins"] = _floats(lo)
        elif e["dtype"] == "q8_32":
            q, scale = decode_q8(data, *e["shape"], e["offset"])
            entry["quants"] = [int(x) for x in q.reshape(-1)]
            entry["scales"] = _floats(scale)
        tensors.append(entry)
    golden = {"file": GOLDEN_Q4_FILE, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
              "dataStart": data_start, "architecture": GOLDEN_ARCH, "tensors": tensors}
    (out / "q4-golden.json").write_text(jsonfmt.dumps({"weights": golden}) + "\n", encoding="utf-8")
    return [GOLDEN_Q4_FILE, "q4-golden.json"]
