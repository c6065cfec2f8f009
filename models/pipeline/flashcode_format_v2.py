"""Model directory format v2 (models/FORMAT.md §M, §W): weights.bin writer and reader, the tensors an
architecture needs, q4_32 (§Q4) and the v2 manifest. q8_32 (§Q) and ffn.bin version 3 (§F) live in
flashcode_format.py next to the other ffn.bin dtypes.

src/engine/weights/weightsFile.ts and src/engine/manifestV2.ts read the same spec;
test/golden/weights-q8.bin and ffn-q8*.bin, written with this module, hold the two together.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from flashcode_format import (DTYPE_Q8, FfnLayer, ModelFileCorruptError, ModelFormatUnsupportedError, Q8_BLOCK,
                              decode_q8, dequantize_q8, encode_ffn_bin, encode_q8, is_f16_scale, write_manifest)

WEIGHTS_MAGIC = b"FCWT"
WEIGHTS_VERSION = 1
WEIGHTS_VERSION_Q4 = 2  # version 1 plus q4_32 for any matrix; written only when a tensor is q4_32
Q4_BLOCK = 32
Q4_MAX = 15
WEIGHTS_ALIGNMENT = 64
WEIGHTS_FIXED_BYTES = 12
MANIFEST_FORMAT_VERSION_2 = 2


def _align(n: int) -> int:
    return (n + WEIGHTS_ALIGNMENT - 1) // WEIGHTS_ALIGNMENT * WEIGHTS_ALIGNMENT


@dataclass(frozen=True)
class TensorSpec:
    dtype: str               # "f32" | "q8_32"
    shape: tuple[int, ...]
    optional: bool = False


def tensor_specs(arch: dict) -> dict[str, TensorSpec]:
    """The tensors weights.bin holds for a v2 `architecture` (FORMAT.md §W), in file order."""
    d, h, hkv, hd = arch["dModel"], arch["heads"], arch["kvHeads"], arch["headDim"]
    f, v = arch["ffnSize"], arch["vocabSize"]
    specs = {"embed": TensorSpec("q8_32", (v, d))}
    if not arch["tiedEmbeddings"]:
        specs["head"] = TensorSpec("q8_32", (v, d))
    specs["head_bias"] = TensorSpec("f32", (v,), optional=True)
    specs["final_norm"] = TensorSpec("f32", (d,))
    qkv = (h + 2 * hkv) * hd
    for l in range(arch["layers"]):
        specs[f"layers.{l}.attn_norm"] = TensorSpec("f32", (d,))
        specs[f"layers.{l}.qkv"] = TensorSpec("q8_32", (qkv, d))
        if arch["attentionBias"]:
            specs[f"layers.{l}.qkv_bias"] = TensorSpec("f32", (qkv,))
        specs[f"layers.{l}.out"] = TensorSpec("q8_32", (d, h * hd))
        specs[f"layers.{l}.ffn_norm"] = TensorSpec("f32", (d,))
        if arch["ffnActivation"] == "silu":
            specs[f"layers.{l}.ffn_gate"] = TensorSpec("q8_32", (f, d))
    return specs


def tensor_bytes(dtype: str, shape: Sequence[int]) -> int:
    n = int(np.prod(shape))
    return 4 * n if dtype == "f32" else n * 9 // 8 if dtype == "q8_32" else n * 3 // 4


def quantize_q4(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """q4_32 (FORMAT.md §Q4) in f32 arithmetic: rows [n, c] (c % 32 == 0) → nibbles [n, c/2] uint8,
    scales and mins [n, c/32] f32, per block of 32: min = the smallest value (+0 for a zero), scale =
    (max − min) / 15, q = rint((w − min) / scale) (ties to even) clamped to 0…15; q = 0 where the
    scale is 0. Byte k of a block holds q_k in its low 4 bits and q_(k+16) in its high 4 bits."""
    rows = np.asarray(rows, dtype=np.float32)
    n, c = rows.shape
    if c % Q4_BLOCK:
        raise ValueError(f"q4_32 needs columns in blocks of {Q4_BLOCK}, got {c}")
    if not np.isfinite(rows).all():
        raise ValueError("q4_32 quantisation needs finite weights")
    blocks = rows.reshape(n, c // Q4_BLOCK, Q4_BLOCK)
    zero = np.float32(0)
    lo = (blocks.min(axis=2) + zero).astype(np.float32)  # + 0 turns −0 into +0
    with np.errstate(over="ignore"):
        span = ((blocks.max(axis=2) - lo) + zero).astype(np.float32)
    if not np.isfinite(span).all():
        raise ValueError("q4_32: a block spans more than f32 can hold")
    scale = (span / np.float32(Q4_MAX)).astype(np.float32)
    divisor = np.where(scale > 0, scale, np.float32(1))[:, :, None]
    q = np.clip(np.rint((blocks - lo[:, :, None]) / divisor), 0, Q4_MAX)
    q = np.where(scale[:, :, None] > 0, q, 0).astype(np.uint8)
    nibbles = q[:, :, :16] | (q[:, :, 16:] << 4)
    return nibbles.reshape(n, c // 2), scale, lo


def dequantize_q4(nibbles: np.ndarray, scale: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """value = (q × scale) + min of its block, each step rounded to f32 → [n, c] f32."""
    n, half = nibbles.shape
    b = nibbles.reshape(n, half // 16, 16)
    q = np.concatenate([b & 15, b >> 4], axis=2).astype(np.float32)  # [n, c/32, 32]
    values = (q * np.asarray(scale, np.float32)[:, :, None]).astype(np.float32) + np.asarray(lo, np.float32)[:, :, None]
    return values.astype(np.float32).reshape(n, half * 2)


def encode_q4(rows: np.ndarray) -> bytes:
    """A q4_32 matrix as stored: all nibbles, then all scales, then all mins (little-endian f32)."""
    nibbles, scale, lo = quantize_q4(rows)
    return nibbles.tobytes() + scale.astype("<f4").tobytes() + lo.astype("<f4").tobytes()


def decode_q4(data: bytes, rows: int, cols: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """nibbles [rows, cols/2] uint8, scales and mins [rows, cols/32] f32 of the q4_32 matrix at data[offset:]."""
    n = rows * cols
    nibbles = np.frombuffer(data, dtype=np.uint8, count=n // 2, offset=offset).reshape(rows, cols // 2)
    scale = np.frombuffer(data, dtype="<f4", count=n // Q4_BLOCK, offset=offset + n // 2)
    lo = np.frombuffer(data, dtype="<f4", count=n // Q4_BLOCK, offset=offset + n // 2 + n // 8)
    shape = (rows, cols // Q4_BLOCK)
    return nibbles.copy(), scale.reshape(shape).astype(np.float32), lo.reshape(shape).astype(np.float32)


def _encode_tensor(dtype: str, values: np.ndarray) -> bytes:
    values = np.asarray(values, dtype=np.float32)
    if dtype == "f32":
        if not np.isfinite(values).all():
            raise ValueError("weights.bin refuses non-finite f32 values")
        return values.astype("<f4").tobytes()
    return encode_q8(values) if dtype == "q8_32" else encode_q4(values)


def encode_weights_bin(tensors: dict[str, np.ndarray], arch: Optional[dict] = None, q4: Sequence[str] = ()) -> bytes:
    """weights.bin holding `tensors` (name → f32 values; the dtype comes from the architecture's
    spec, or f32 for 1-D and q8_32 for 2-D tensors without one; the matrices named in `q4` are
    q4_32 instead, which makes the file version 2), in the spec's order when given."""
    specs = tensor_specs(arch) if arch else {}
    if arch:
        missing = [n for n, s in specs.items() if not s.optional and n not in tensors]
        extra = [n for n in tensors if n not in specs]
        if missing or extra:
            raise ValueError(f"weights.bin for this architecture: missing {missing}, unexpected {extra}")
        names = [n for n in specs if n in tensors]
    else:
        names = list(tensors)
    entries, blobs = [], []
    for name in names:
        values = np.asarray(tensors[name], dtype=np.float32)
        dtype = specs[name].dtype if name in specs else ("f32" if values.ndim == 1 else "q8_32")
        if name in q4:
            if dtype != "q8_32":
                raise ValueError(f"{name}: only a matrix can be q4_32")
            dtype = "q4_32"
        if name in specs and tuple(values.shape) != specs[name].shape:
            raise ValueError(f"{name}: shape {values.shape}, the architecture needs {specs[name].shape}")
        blobs.append(_encode_tensor(dtype, values))
        entries.append({"name": name, "dtype": dtype, "shape": list(values.shape), "bytes": len(blobs[-1])})
    # The table holds the offsets, whose values depend on the table's length: settle both.
    data_start = _align(WEIGHTS_FIXED_BYTES + 2)
    while True:
        cursor = data_start
        for e, blob in zip(entries, blobs):
            e["offset"] = cursor
            cursor = _align(cursor + len(blob))
        table = {"fileBytes": cursor, "tensors": [{k: e[k] for k in ("name", "dtype", "shape", "offset", "bytes")} for e in entries]}
        text = json.dumps(table, separators=(",", ":")).encode("utf-8")
        if _align(WEIGHTS_FIXED_BYTES + len(text)) == data_start:
            break
        data_start = _align(WEIGHTS_FIXED_BYTES + len(text))
    out = bytearray(cursor)
    version = WEIGHTS_VERSION_Q4 if any(e["dtype"] == "q4_32" for e in entries) else WEIGHTS_VERSION
    struct.pack_into("<4sII", out, 0, WEIGHTS_MAGIC, version, len(text))
    out[WEIGHTS_FIXED_BYTES:WEIGHTS_FIXED_BYTES + len(text)] = text
    for e, blob in zip(entries, blobs):
        out[e["offset"]:e["offset"] + len(blob)] = blob
    return bytes(out)


def parse_weights_bin(data: bytes, arch: Optional[dict] = None) -> tuple[int, dict[str, dict]]:
    """(dataStart, name → table entry), checked as FORMAT.md §W says (against `arch` when given)."""
    if len(data) < WEIGHTS_FIXED_BYTES or data[:4] != WEIGHTS_MAGIC:
        raise ModelFileCorruptError("weights.bin: wrong magic or truncated header")
    version, json_bytes = struct.unpack_from("<II", data, 4)
    if version not in (WEIGHTS_VERSION, WEIGHTS_VERSION_Q4):
        raise ModelFormatUnsupportedError(f"weights.bin: version {version}, this reader reads {WEIGHTS_VERSION} and {WEIGHTS_VERSION_Q4}")
    if WEIGHTS_FIXED_BYTES + json_bytes > len(data):
        raise ModelFileCorruptError("weights.bin: truncated tensor table")
    try:
        table = json.loads(data[WEIGHTS_FIXED_BYTES:WEIGHTS_FIXED_BYTES + json_bytes].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelFileCorruptError(f"weights.bin: tensor table is not valid JSON ({e})") from e
    data_start = _align(WEIGHTS_FIXED_BYTES + json_bytes)
    if table.get("fileBytes") != len(data):
        raise ModelFileCorruptError(f"weights.bin: {len(data)} bytes, its table says {table.get('fileBytes')}")
    tensors = {}
    for e in table["tensors"]:
        name = e["name"]
        if e["dtype"] not in (("f32", "q8_32", "q4_32") if version == WEIGHTS_VERSION_Q4 else ("f32", "q8_32")):
            raise ModelFormatUnsupportedError(f"weights.bin: tensor {name} has dtype {e['dtype']!r} in a version {version} file")
        if name in tensors:
            raise ModelFileCorruptError(f"weights.bin: tensor {name} is listed twice")
        if e["bytes"] != tensor_bytes(e["dtype"], e["shape"]) or (e["dtype"] != "f32" and e["shape"][-1] % Q8_BLOCK):
            raise ModelFileCorruptError(f"weights.bin: tensor {name} bytes do not match its shape")
        if e["offset"] % WEIGHTS_ALIGNMENT or e["offset"] < data_start or e["offset"] + e["bytes"] > len(data):
            raise ModelFileCorruptError(f"weights.bin: tensor {name} is unaligned or out of bounds")
        tensors[name] = e
    spans = sorted((e["offset"], e["offset"] + e["bytes"], n) for n, e in tensors.items())
    for (_, end, prev), (start, _, name) in zip(spans, spans[1:]):
        if start < end:
            raise ModelFileCorruptError(f"weights.bin: tensor {name} overlaps tensor {prev}")
    if arch is not None:
        specs = tensor_specs(arch)
        for name, spec in specs.items():
            if not spec.optional and name not in tensors:
                raise ModelFileCorruptError(f"weights.bin: tensor {name} is missing")
        for name, e in tensors.items():
            if name not in specs:
                raise ModelFileCorruptError(f"weights.bin: tensor {name} is unexpected for this architecture")
            dtype_ok = e["dtype"] == specs[name].dtype or (specs[name].dtype, e["dtype"]) == ("q8_32", "q4_32")
            if not dtype_ok or tuple(e["shape"]) != specs[name].shape:
                raise ModelFileCorruptError(f"weights.bin: tensor {name} is {e['dtype']} {e['shape']}, "
                                            f"the architecture needs {specs[name].dtype} {list(specs[name].shape)}")
    return data_start, tensors


def read_tensor(data: bytes, entry: dict) -> np.ndarray:
    """A tensor's values in f32 (q8_32 dequantised); non-finite values or scales are corrupt."""
    if entry["dtype"] == "f32":
        values = np.frombuffer(data, dtype="<f4", count=entry["bytes"] // 4, offset=entry["offset"]).astype(np.float32)
        finite = values
    elif entry["dtype"] == "q8_32":
        rows, cols = entry["shape"]
        q, finite = decode_q8(data, rows, cols, entry["offset"])
        values = dequantize_q8(q, finite)
    else:
        rows, cols = entry["shape"]
        nibbles, scale, lo = decode_q4(data, rows, cols, entry["offset"])
        finite = np.concatenate([scale, lo])
        with np.errstate(invalid="ignore", over="ignore"):
            values = dequantize_q4(nibbles, scale, lo)
    if not np.isfinite(finite).all():
        raise ModelFileCorruptError(f"weights.bin: tensor {entry['name']} has a non-finite value or scale")
    if entry["dtype"] == "q8_32" and not is_f16_scale(finite).all():
        raise ModelFileCorruptError(f"weights.bin: tensor {entry['name']} has a q8_32 scale that is not an f16 value ≥ 0 "
                                    "(FORMAT.md §Q; a file written before that rule: write it again)")
    return values.reshape(entry["shape"])


def read_weights_bin(path: Path, arch: Optional[dict] = None) -> dict[str, np.ndarray]:
    data = Path(path).read_bytes()
    _, tensors = parse_weights_bin(data, arch)
    return {name: read_tensor(data, e) for name, e in tensors.items()}


def write_model_dir_v2(model_dir: Path, manifest: dict, tensors: dict[str, np.ndarray],
                       ffn_layers: Sequence[FfnLayer], tokenizer_json: bytes, q4: Sequence[str] = ()) -> dict:
    """A whole v2 directory: weights.bin, ffn.bin (version 3; the gate goes to weights.bin for silu
    models, so `ffn_layers` then have w_gate None), tokenizer.json and manifest.json (+ `files`).
    `manifest` holds everything but `files`, `weights` and `ffn`."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    arch = manifest["architecture"]
    gated_records = arch["ffnGated"] and arch["ffnActivation"] != "silu"
    if any((layer.w_gate is not None) != gated_records for layer in ffn_layers):
        raise ValueError("ffn.bin records hold the gate exactly for ReLU-gated models")
    (model_dir / "weights.bin").write_bytes(encode_weights_bin(tensors, arch, q4))
    (model_dir / "ffn.bin").write_bytes(encode_ffn_bin(list(ffn_layers), DTYPE_Q8))
    (model_dir / "tokenizer.json").write_bytes(tokenizer_json)
    full = {"format": "flashcode-model", "formatVersion": MANIFEST_FORMAT_VERSION_2, **manifest,
            "weights": {"file": "weights.bin"}, "ffn": {"file": "ffn.bin"}, "quantization": "q4_32" if q4 else "q8_32"}
    return write_manifest(model_dir, full)
