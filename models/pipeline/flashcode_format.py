"""Model directory format v1 (models/FORMAT.md): the ffn.bin (versions 1, 2 and, for format v2
directories, 3 with q8_32 records) and predictors.bin writers and readers, the q8_32 encoding
(§Q), and manifest files. weights.bin and the v2 manifest: flashcode_format_v2.py.

The TypeScript readers in src/engine/weights/ implement the same spec; test/golden/ffn-*.bin and
predictors-*.bin, written by this module, hold the two together.
"""
from __future__ import annotations

import hashlib
import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

FFN_MAGIC = b"FCFF"
FFN_VERSION = 1       # what float32 and float16 files are written as, so they stay readable by v1 readers
FFN_VERSION_INT8 = 2  # int8 records need version 2
FFN_VERSION_Q8 = 3    # q8_32 records (format v2 directories): version 3 holds dtype 3 only
FFN_VERSIONS = (FFN_VERSION, FFN_VERSION_INT8, FFN_VERSION_Q8)
FFN_ALIGNMENT = 4096
HEADER_FIXED_BYTES = 64
LAYER_ENTRY_BYTES = 16

DTYPE_F32 = 0
DTYPE_F16 = 1
DTYPE_I8 = 2  # ffn.bin only: int8 with one f32 scale per record part (FORMAT.md §3)
DTYPE_Q8 = 3  # ffn.bin version 3 only: q8_32, one f32 scale per 32 values (FORMAT.md §Q, §F)
Q8_BLOCK = 32
# The float codes, shared by ffn.bin and predictors.bin.
DTYPES: dict[int, np.dtype] = {DTYPE_F32: np.dtype("<f4"), DTYPE_F16: np.dtype("<f2")}
FFN_DTYPES = (DTYPE_F32, DTYPE_F16, DTYPE_I8, DTYPE_Q8)
DTYPE_NAMES = {DTYPE_F32: "float32", DTYPE_F16: "float16", DTYPE_I8: "int8", DTYPE_Q8: "q8_32"}
INT8_MAX = 127
F16_MAX = 65504.0           # a q8_32 scale is an f16 value (FORMAT.md §Q)
F16_ROUNDS_TO_INF = 65520.0  # halfway from 65504 to 2^16: this and above round to f16 infinity

FLAG_GATED = 1

PREDICTORS_MAGIC = b"FCPR"
PREDICTORS_VERSION = 1
PREDICTORS_ALIGNMENT = 64
PREDICTORS_LAYER_ENTRY_BYTES = 32

MANIFEST_FORMAT = "flashcode-model"
MANIFEST_FORMAT_VERSION = 1
MANIFEST_FORMAT_VERSIONS = (1, 2)


class ModelFileCorruptError(ValueError):
    """Same meaning as the TypeScript ModelFileCorruptError."""


class ModelFormatUnsupportedError(ValueError):
    """Same meaning as the TypeScript ModelFormatUnsupportedError."""


@dataclass(frozen=True)
class FfnLayer:
    """One layer's FFN weights, in the model's own orientation."""
    w_gate: Optional[np.ndarray]  # [ffnSize, d], None when not gated
    w_up: np.ndarray              # [ffnSize, d]
    w_down: np.ndarray            # [d, ffnSize]; record j holds column j


@dataclass(frozen=True)
class FfnHeader:
    version: int
    header_bytes: int
    layers: int
    d_model: int
    ffn_size: int
    dtype: int
    gated: bool
    record_bytes: int
    alignment: int
    file_bytes: int
    layer_table: tuple[tuple[int, int], ...]  # per layer (dataOffset, dataBytes)


def _align(n: int, alignment: int = FFN_ALIGNMENT) -> int:
    return (n + alignment - 1) // alignment * alignment


def layer_records(layer: FfnLayer) -> np.ndarray:
    """[ffnSize, (gated ? 3 : 2) * d] f32: row j is neuron j's record, gate | up | down column."""
    parts = [layer.w_up, layer.w_down.T]
    if layer.w_gate is not None:
        parts.insert(0, layer.w_gate)
    return np.concatenate([np.asarray(p, dtype=np.float32) for p in parts], axis=1)


def ffn_record_bytes(d_model: int, gated: bool, dtype: int) -> int:
    """One neuron record: parts × d values, plus one f32 scale per part for int8 (FORMAT.md §3)."""
    parts = 3 if gated else 2
    if dtype == DTYPE_I8:
        return parts * 4 + parts * d_model
    if dtype == DTYPE_Q8:
        return parts * d_model * 9 // 8
    return parts * d_model * DTYPES[dtype].itemsize


def quantize_int8(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-row int8 (FORMAT.md §3), in f32 arithmetic: rows [n, d] → q [n, d] int8 and
    scale [n] f32 with scale = max|row| / 127 (0 for a zero row), q = round(row / scale), ties to even."""
    rows = np.asarray(rows, dtype=np.float32)
    if not np.isfinite(rows).all():
        raise ValueError("int8 quantisation needs finite weights")
    scale = np.max(np.abs(rows), axis=1, initial=np.float32(0)) / np.float32(INT8_MAX)  # [n] f32
    divisor = np.where(scale > 0, scale, np.float32(1))[:, None]
    q = np.clip(np.rint(rows / divisor), -INT8_MAX, INT8_MAX).astype(np.int8)
    return q, scale.astype(np.float32)


def quantize_q8(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """q8_32 (FORMAT.md §Q) in f32 arithmetic: rows [n, c] (c % 32 == 0) → quants [n, c] int8 and
    scales [n, c/32] f32, per block of 32: scale = f16(max|w| / 127) (the nearest f16, ties to even,
    subnormals included: llama.cpp's Q8_0 scale), q = rint(w / scale) (ties to even), clamped to ±127;
    q = 0 in a block whose scale is 0. A scale past f16's largest value (65504) is a ValueError."""
    rows = np.asarray(rows, dtype=np.float32)
    n, c = rows.shape
    if c % Q8_BLOCK:
        raise ValueError(f"q8_32 needs columns in blocks of {Q8_BLOCK}, got {c}")
    if not np.isfinite(rows).all():
        raise ValueError("q8_32 quantisation needs finite weights")
    blocks = rows.reshape(n, c // Q8_BLOCK, Q8_BLOCK)
    top = np.max(np.abs(blocks), axis=2)  # [n, c/32] f32
    raw = (top / np.float32(INT8_MAX)).astype(np.float32)
    if (raw >= F16_ROUNDS_TO_INF).any():
        r, b = np.argwhere(raw >= F16_ROUNDS_TO_INF)[0]
        raise ValueError(f"q8_32 scale {raw[r, b]} exceeds f16's largest value {F16_MAX:g} (max |w| {top[r, b]} "
                         f"in row {r}, block {b}; q8_32 needs max |w| < 127 · {F16_ROUNDS_TO_INF:g})")
    scale = raw.astype(np.float16).astype(np.float32)
    divisor = np.where(scale > 0, scale, np.float32(1))[:, :, None]
    q = np.clip(np.rint(blocks / divisor), -INT8_MAX, INT8_MAX)
    q = np.where(scale[:, :, None] > 0, q, 0).astype(np.int8)
    return q.reshape(n, c), scale


def is_f16_scale(scale: np.ndarray) -> np.ndarray:
    """Per value: a finite f16 value ≥ 0, not −0 (what a q8_32 scale must be, FORMAT.md §Q)."""
    scale = np.asarray(scale, dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.isfinite(scale) & ~np.signbit(scale) & (scale.astype(np.float16).astype(np.float32) == scale)


def dequantize_q8(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """value = q × scale of its block, in f32: q [n, c] int8, scale [n, c/32] f32 → [n, c] f32."""
    n, c = q.shape
    blocks = q.reshape(n, c // Q8_BLOCK, Q8_BLOCK).astype(np.float32) * np.asarray(scale, np.float32)[:, :, None]
    return blocks.reshape(n, c)


def encode_q8(rows: np.ndarray) -> bytes:
    """A q8_32 matrix as stored: all quants, then all scales (little-endian f32)."""
    q, scale = quantize_q8(rows)
    return q.tobytes() + scale.astype("<f4").tobytes()


def decode_q8(data: bytes, rows: int, cols: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """quants [rows, cols] int8 and scales [rows, cols/32] f32 of the q8_32 matrix at data[offset:]."""
    q = np.frombuffer(data, dtype=np.int8, count=rows * cols, offset=offset).reshape(rows, cols)
    scale = np.frombuffer(data, dtype="<f4", count=rows * cols // Q8_BLOCK, offset=offset + rows * cols)
    return q.copy(), scale.reshape(rows, cols // Q8_BLOCK).astype(np.float32)


def dequantize_int8(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """value = q × scale in f32, row by row: q [n, d] int8, scale [n] f32 → [n, d] f32."""
    return q.astype(np.float32) * np.asarray(scale, dtype=np.float32)[:, None]


def _int8_record_dtype(d_model: int, gated: bool) -> np.dtype:
    """A packed int8 record: the scales of its parts, then the parts' int8 values."""
    parts = 3 if gated else 2
    return np.dtype([("scale", "<f4", (parts,)), ("q", "i1", (parts * d_model,))])


def encode_ffn_bin(layers: Sequence[FfnLayer], dtype: int) -> bytes:
    """The bytes of an ffn.bin holding `layers` in `dtype` (DTYPE_F32, DTYPE_F16 or DTYPE_I8).

    Float files are written as version 1, int8 files as version 2."""
    if dtype not in FFN_DTYPES:
        raise ModelFormatUnsupportedError(f"ffn.bin dtype code {dtype} is not written by this writer")
    if not layers:
        raise ValueError("ffn.bin needs at least one layer")
    gated = layers[0].w_gate is not None
    ffn_size, d_model = layers[0].w_up.shape
    for layer in layers:
        if (layer.w_gate is not None) != gated:
            raise ValueError("every layer must be gated, or none")
        for w in ([layer.w_gate] if gated else []) + [layer.w_up]:
            if w.shape != (ffn_size, d_model):
                raise ValueError(f"gate/up must be [{ffn_size}, {d_model}], got {w.shape}")
        if layer.w_down.shape != (d_model, ffn_size):
            raise ValueError(f"down must be [{d_model}, {ffn_size}], got {layer.w_down.shape}")

    if dtype == DTYPE_Q8 and d_model % Q8_BLOCK:
        raise ValueError(f"q8_32 records need dModel a multiple of {Q8_BLOCK}, got {d_model}")
    version = {DTYPE_I8: FFN_VERSION_INT8, DTYPE_Q8: FFN_VERSION_Q8}.get(dtype, FFN_VERSION)
    record_bytes = ffn_record_bytes(d_model, gated, dtype)
    data_bytes = ffn_size * record_bytes
    header_bytes = HEADER_FIXED_BYTES + LAYER_ENTRY_BYTES * len(layers)

    offsets = []
    cursor = _align(header_bytes)
    for _ in layers:
        offsets.append(cursor)
        cursor = _align(cursor + data_bytes)
    file_bytes = cursor

    out = bytearray(file_bytes)  # zero padding everywhere nothing is written
    struct.pack_into(
        "<4sIIIIIIIIIQ16x", out, 0,
        FFN_MAGIC, version, header_bytes, len(layers), d_model, ffn_size, dtype,
        FLAG_GATED if gated else 0, record_bytes, FFN_ALIGNMENT, file_bytes,
    )
    for l, offset in enumerate(offsets):
        struct.pack_into("<QQ", out, HEADER_FIXED_BYTES + LAYER_ENTRY_BYTES * l, offset, data_bytes)
        out[offset:offset + data_bytes] = _encode_records(layer_records(layers[l]), d_model, gated, dtype)
    return bytes(out)


def _encode_records(records: np.ndarray, d_model: int, gated: bool, dtype: int) -> bytes:
    """records [ffnSize, parts * d] f32 → the section's bytes in `dtype`."""
    ffn_size = records.shape[0]
    if dtype == DTYPE_Q8:  # per record: every part's quants, then every part's scales (FORMAT.md §F)
        q, scale = quantize_q8(records)  # the parts are consecutive d-wide rows: blocks never straddle two
        return np.concatenate([q.view(np.uint8), scale.astype("<f4").view(np.uint8)], axis=1).tobytes()
    if dtype != DTYPE_I8:
        return records.astype(DTYPES[dtype]).tobytes()
    q, scale = quantize_int8(records.reshape(-1, d_model))  # one row per part: [ffnSize * parts, d]
    packed = np.zeros(ffn_size, dtype=_int8_record_dtype(d_model, gated))
    packed["scale"] = scale.reshape(ffn_size, -1)
    packed["q"] = q.reshape(ffn_size, -1)
    return packed.tobytes()


def write_ffn_bin(path: Path, layers: Sequence[FfnLayer], dtype: int) -> FfnHeader:
    data = encode_ffn_bin(layers, dtype)
    Path(path).write_bytes(data)
    return parse_ffn_header(data)


def parse_ffn_header(data: bytes) -> FfnHeader:
    """Validates the header and layer table against the whole file `data`, as FORMAT.md §3 says."""
    if len(data) < HEADER_FIXED_BYTES or data[:4] != FFN_MAGIC:
        raise ModelFileCorruptError("ffn.bin: wrong magic")
    (version,) = struct.unpack_from("<I", data, 4)
    if version not in FFN_VERSIONS:
        raise ModelFormatUnsupportedError(f"ffn.bin: version {version}, this reader reads {FFN_VERSIONS}")
    (header_bytes, layers, d_model, ffn_size, dtype, flags, record_bytes, alignment,
     file_bytes) = struct.unpack_from("<IIIIIIIIQ", data, 8)
    if dtype not in FFN_DTYPES:
        raise ModelFormatUnsupportedError(f"ffn.bin: unknown dtype code {dtype}")
    if dtype == DTYPE_I8 and version < FFN_VERSION_INT8:
        raise ModelFormatUnsupportedError(f"ffn.bin: dtype {dtype} (int8) in a version {version} file")
    if (dtype == DTYPE_Q8) != (version == FFN_VERSION_Q8):
        raise ModelFormatUnsupportedError(f"ffn.bin: dtype {dtype} in a version {version} file (q8_32 is version 3's only dtype)")
    if dtype == DTYPE_Q8 and d_model % Q8_BLOCK:
        raise ModelFileCorruptError(f"ffn.bin: dModel {d_model} is not a multiple of {Q8_BLOCK}")
    if flags & ~FLAG_GATED:
        raise ModelFormatUnsupportedError(f"ffn.bin: unknown flags 0x{flags:x}")
    gated = bool(flags & FLAG_GATED)
    if len(data) < file_bytes:
        raise ModelFileCorruptError(f"ffn.bin: truncated ({len(data)} of {file_bytes} bytes)")
    if header_bytes != HEADER_FIXED_BYTES + LAYER_ENTRY_BYTES * layers or header_bytes > file_bytes:
        raise ModelFileCorruptError(f"ffn.bin: headerBytes {header_bytes} does not match {layers} layers")
    if record_bytes != ffn_record_bytes(d_model, gated, dtype):
        raise ModelFileCorruptError(f"ffn.bin: recordBytes {record_bytes} does not match the header")
    table = []
    for l in range(layers):
        offset, size = struct.unpack_from("<QQ", data, HEADER_FIXED_BYTES + LAYER_ENTRY_BYTES * l)
        if offset + size > file_bytes:
            raise ModelFileCorruptError(f"ffn.bin: truncated (layer {l} ends past fileBytes)")
        if alignment == 0 or offset % alignment != 0 or size != ffn_size * record_bytes:
            raise ModelFileCorruptError(f"ffn.bin: layer {l} table entry is inconsistent")
        table.append((offset, size))
    return FfnHeader(version, header_bytes, layers, d_model, ffn_size, dtype, gated, record_bytes,
                     alignment, file_bytes, tuple(table))


def read_ffn_int8(data: bytes, header: FfnHeader, layer: int) -> tuple[np.ndarray, np.ndarray]:
    """An int8 file's layer as stored: scales [ffnSize, parts] f32 and q [ffnSize, parts * d] int8."""
    if header.dtype != DTYPE_I8:
        raise ValueError(f"ffn.bin holds dtype {header.dtype}, not int8")
    offset, _ = header.layer_table[layer]
    packed = np.frombuffer(data, dtype=_int8_record_dtype(header.d_model, header.gated), count=header.ffn_size,
                           offset=offset)
    return packed["scale"].copy(), packed["q"].copy()


def read_ffn_q8(data: bytes, header: FfnHeader, layer: int) -> tuple[np.ndarray, np.ndarray]:
    """A q8_32 file's layer as stored: quants [ffnSize, parts * d] int8 and scales [ffnSize, parts * d / 32] f32."""
    if header.dtype != DTYPE_Q8:
        raise ValueError(f"ffn.bin holds dtype {header.dtype}, not q8_32")
    offset, size = header.layer_table[layer]
    n = header.record_bytes * 8 // 9  # values per record
    raw = np.frombuffer(data, dtype=np.uint8, count=size, offset=offset).reshape(header.ffn_size, header.record_bytes)
    q = raw[:, :n].copy().view(np.int8)
    scale = raw[:, n:].copy().view("<f4").astype(np.float32)
    return q, scale


def read_ffn_records(data: bytes, header: FfnHeader, layer: int) -> np.ndarray:
    """[ffnSize, record values] f32 of one layer (gate | up | down column per row): float values as
    stored, int8 values dequantised (q × scale)."""
    if header.dtype == DTYPE_Q8:
        q, scale = read_ffn_q8(data, header, layer)
        return dequantize_q8(q, scale)
    if header.dtype == DTYPE_I8:
        scale, q = read_ffn_int8(data, header, layer)
        rows = dequantize_int8(q.reshape(-1, header.d_model), scale.reshape(-1))  # [ffnSize * parts, d]
        return rows.reshape(header.ffn_size, -1)
    offset, size = header.layer_table[layer]
    values = np.frombuffer(data, dtype=DTYPES[header.dtype], count=size // DTYPES[header.dtype].itemsize,
                           offset=offset)
    return values.reshape(header.ffn_size, -1).astype(np.float32)


def decode_ffn_bin(data: bytes) -> tuple[FfnHeader, list[FfnLayer]]:
    """Every layer back in the model's orientation, f32 (f16 widens, int8 dequantises)."""
    header = parse_ffn_header(data)
    d = header.d_model
    layers = []
    for l in range(header.layers):
        records = read_ffn_records(data, header, l)  # [ffnSize, (2|3) * d]
        parts = [records[:, i * d:(i + 1) * d] for i in range(records.shape[1] // d)]
        w_gate = parts.pop(0) if header.gated else None
        w_up, w_down_cols = parts
        layers.append(FfnLayer(w_gate=w_gate, w_up=w_up, w_down=np.ascontiguousarray(w_down_cols.T)))
    return header, layers


def read_ffn_bin(path: Path) -> tuple[FfnHeader, list[FfnLayer]]:
    return decode_ffn_bin(Path(path).read_bytes())


@dataclass(frozen=True)
class PredictorLayer:
    """One layer's active-neuron predictor (FORMAT.md §4): j is active ⇔ ((x · a) · b + bias)[j] > threshold."""
    a: np.ndarray     # [d, r]
    b: np.ndarray     # [r, ffnSize]
    bias: np.ndarray  # [ffnSize]
    threshold: float  # stored as f32

    @property
    def rank(self) -> int:
        return self.a.shape[1]


@dataclass(frozen=True)
class PredictorsHeader:
    version: int
    header_bytes: int
    layers: int
    d_model: int
    ffn_size: int
    dtype: int
    file_bytes: int
    layer_table: tuple[tuple[int, int, int, float], ...]  # per layer (dataOffset, dataBytes, rank, threshold)


def _predictor_values(d_model: int, rank: int, ffn_size: int) -> int:
    """Values in one section: A [d, r], B [r, ffnSize], bias [ffnSize]."""
    return d_model * rank + rank * ffn_size + ffn_size


def encode_predictors_bin(layers: Sequence[PredictorLayer], dtype: int) -> bytes:
    """The bytes of a predictors.bin holding `layers` in `dtype` (DTYPE_F32 or DTYPE_F16)."""
    if dtype not in DTYPES:
        raise ModelFormatUnsupportedError(f"predictors.bin dtype code {dtype} is not written by format v1")
    if not layers:
        raise ValueError("predictors.bin needs at least one layer")
    d_model, ffn_size = layers[0].a.shape[0], layers[0].bias.shape[0]
    for l, layer in enumerate(layers):
        r = layer.a.shape[1] if layer.a.ndim == 2 else 0
        if layer.a.shape != (d_model, r) or r < 1:
            raise ValueError(f"layer {l}: a must be [{d_model}, rank ≥ 1], got {layer.a.shape}")
        if layer.b.shape != (r, ffn_size):
            raise ValueError(f"layer {l}: b must be [{r}, {ffn_size}], got {layer.b.shape}")
        if layer.bias.shape != (ffn_size,):
            raise ValueError(f"layer {l}: bias must be [{ffn_size}], got {layer.bias.shape}")
        if not math.isfinite(float(np.float32(layer.threshold))):
            raise ValueError(f"layer {l}: threshold {layer.threshold} is not a finite f32")

    np_dtype = DTYPES[dtype]
    header_bytes = HEADER_FIXED_BYTES + PREDICTORS_LAYER_ENTRY_BYTES * len(layers)
    sections = []
    cursor = _align(header_bytes, PREDICTORS_ALIGNMENT)
    for layer in layers:
        data_bytes = _predictor_values(d_model, layer.rank, ffn_size) * np_dtype.itemsize
        sections.append((cursor, data_bytes))
        cursor = _align(cursor + data_bytes, PREDICTORS_ALIGNMENT)
    file_bytes = cursor

    out = bytearray(file_bytes)  # zero padding and reserved fields everywhere nothing is written
    struct.pack_into("<4sIIIIIIIQ24x", out, 0, PREDICTORS_MAGIC, PREDICTORS_VERSION, header_bytes, len(layers),
                     d_model, ffn_size, dtype, 0, file_bytes)
    for l, ((offset, data_bytes), layer) in enumerate(zip(sections, layers)):
        struct.pack_into("<QQIf8x", out, HEADER_FIXED_BYTES + PREDICTORS_LAYER_ENTRY_BYTES * l,
                         offset, data_bytes, layer.rank, layer.threshold)
        values = np.concatenate([np.asarray(m, dtype=np.float32).ravel() for m in (layer.a, layer.b, layer.bias)])
        out[offset:offset + data_bytes] = values.astype(np_dtype).tobytes()
    return bytes(out)


def write_predictors_bin(path: Path, layers: Sequence[PredictorLayer], dtype: int) -> PredictorsHeader:
    data = encode_predictors_bin(layers, dtype)
    Path(path).write_bytes(data)
    return parse_predictors_header(data)


def parse_predictors_header(data: bytes) -> PredictorsHeader:
    """Validates the header and layer table against the whole file `data`, as FORMAT.md §4 says."""
    if len(data) < HEADER_FIXED_BYTES or data[:4] != PREDICTORS_MAGIC:
        raise ModelFileCorruptError("predictors.bin: wrong magic")
    (version,) = struct.unpack_from("<I", data, 4)
    if version != PREDICTORS_VERSION:
        raise ModelFormatUnsupportedError(
            f"predictors.bin: version {version}, this reader reads {PREDICTORS_VERSION}")
    header_bytes, layers, d_model, ffn_size, dtype, flags, file_bytes = struct.unpack_from("<IIIIIIQ", data, 8)
    if dtype not in DTYPES:
        raise ModelFormatUnsupportedError(f"predictors.bin: unknown dtype code {dtype}")
    if flags != 0:
        raise ModelFormatUnsupportedError(f"predictors.bin: unknown flags 0x{flags:x}")
    if len(data) < file_bytes:
        raise ModelFileCorruptError(f"predictors.bin: truncated ({len(data)} of {file_bytes} bytes)")
    if header_bytes != HEADER_FIXED_BYTES + PREDICTORS_LAYER_ENTRY_BYTES * layers or header_bytes > file_bytes:
        raise ModelFileCorruptError(f"predictors.bin: headerBytes {header_bytes} does not match {layers} layers")
    item = DTYPES[dtype].itemsize
    table = []
    for l in range(layers):
        offset, size, rank, threshold = struct.unpack_from(
            "<QQIf", data, HEADER_FIXED_BYTES + PREDICTORS_LAYER_ENTRY_BYTES * l)
        if rank == 0:
            raise ModelFileCorruptError(f"predictors.bin: layer {l} has rank 0")
        if offset + size > file_bytes:
            raise ModelFileCorruptError(f"predictors.bin: truncated (layer {l} ends past fileBytes)")
        if (offset % PREDICTORS_ALIGNMENT != 0 or offset < header_bytes
                or size != _predictor_values(d_model, rank, ffn_size) * item):
            raise ModelFileCorruptError(f"predictors.bin: layer {l} table entry is inconsistent")
        if not math.isfinite(threshold):
            raise ModelFileCorruptError(f"predictors.bin: layer {l} threshold is {threshold}")
        table.append((offset, size, rank, threshold))
    return PredictorsHeader(version, header_bytes, layers, d_model, ffn_size, dtype, file_bytes, tuple(table))


def decode_predictors_bin(data: bytes) -> tuple[PredictorsHeader, list[PredictorLayer]]:
    """Every layer's predictor, f32 (f16 files widen to f32); raises the errors parse_predictors_header does."""
    header = parse_predictors_header(data)
    np_dtype = DTYPES[header.dtype]
    d, k = header.d_model, header.ffn_size
    layers = []
    for offset, size, rank, threshold in header.layer_table:
        values = np.frombuffer(data, dtype=np_dtype, count=size // np_dtype.itemsize, offset=offset).astype(np.float32)
        a, b, bias = np.split(values, [d * rank, d * rank + rank * k])
        layers.append(PredictorLayer(a=a.reshape(d, rank), b=b.reshape(rank, k), bias=bias, threshold=threshold))
    return header, layers


def predictors_manifest_entry(layers: Sequence[PredictorLayer], recall: Sequence[float],
                              precision: Sequence[float], predicted_active_fraction: Sequence[float],
                              measured_on: str, file: str = "predictors.bin") -> dict:
    """The manifest's `predictors` block (FORMAT.md §1) for `layers` as written and what was measured.

    rank, threshold (as the file stores it, f32) and macsPerToken come from the layers; the three
    measured figures per layer are rounded to 4 decimals, like `sparsity`.
    """
    if not len(layers) == len(recall) == len(precision) == len(predicted_active_fraction):
        raise ValueError("one recall, precision and predictedActiveFraction per layer")
    per_layer = []
    for layer, r, p, f in zip(layers, recall, precision, predicted_active_fraction):
        d, rank = layer.a.shape
        per_layer.append({
            "rank": int(rank),
            "threshold": float(np.float32(layer.threshold)),
            "recall": round(float(r), 4),
            "precision": round(float(p), 4),
            "predictedActiveFraction": round(float(f), 4),
            "macsPerToken": int(d * rank + rank * layer.bias.shape[0]),
        })
    return {"file": file, "perLayer": per_layer, "measuredOn": measured_on}


def file_entry(path: Path) -> dict:
    data = Path(path).read_bytes()
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def write_manifest(model_dir: Path, manifest: dict) -> dict:
    """Adds `files` (every file in model_dir but manifest.json, sorted) and writes manifest.json."""
    model_dir = Path(model_dir)
    names = sorted(p.name for p in model_dir.iterdir() if p.is_file() and p.name != "manifest.json")
    full = dict(manifest)
    full["files"] = {name: file_entry(model_dir / name) for name in names}
    (model_dir / "manifest.json").write_text(json.dumps(full, indent=2) + "\n", encoding="utf-8")
    return full


def verify_manifest_files(model_dir: Path) -> dict:
    """Loads manifest.json and checks every listed file's size and sha256, like the readers do."""
    model_dir = Path(model_dir)
    manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format") != MANIFEST_FORMAT or manifest.get("formatVersion") not in MANIFEST_FORMAT_VERSIONS:
        raise ModelFormatUnsupportedError("manifest.json: not a flashcode-model v1 or v2 manifest")
    for name, expected in manifest["files"].items():
        if file_entry(model_dir / name) != expected:
            raise ModelFileCorruptError(f"{name}: size or sha256 differs from manifest.json")
    return manifest
