"""Model directory format v1 (models/FORMAT.md): the ffn.bin and predictors.bin writers and readers,
and manifest files.

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
FFN_VERSION = 1
FFN_ALIGNMENT = 4096
HEADER_FIXED_BYTES = 64
LAYER_ENTRY_BYTES = 16

DTYPE_F32 = 0
DTYPE_F16 = 1
# Code 2 (int8 with a per-record scale) is reserved; v1 readers reject it like any unknown code.
DTYPES: dict[int, np.dtype] = {DTYPE_F32: np.dtype("<f4"), DTYPE_F16: np.dtype("<f2")}

FLAG_GATED = 1

PREDICTORS_MAGIC = b"FCPR"
PREDICTORS_VERSION = 1
PREDICTORS_ALIGNMENT = 64
PREDICTORS_LAYER_ENTRY_BYTES = 32

MANIFEST_FORMAT = "flashcode-model"
MANIFEST_FORMAT_VERSION = 1


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


def encode_ffn_bin(layers: Sequence[FfnLayer], dtype: int) -> bytes:
    """The bytes of an ffn.bin holding `layers` in `dtype` (DTYPE_F32 or DTYPE_F16)."""
    if dtype not in DTYPES:
        raise ModelFormatUnsupportedError(f"ffn.bin dtype code {dtype} is not written by format v1")
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

    np_dtype = DTYPES[dtype]
    record_bytes = (3 if gated else 2) * d_model * np_dtype.itemsize
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
        FFN_MAGIC, FFN_VERSION, header_bytes, len(layers), d_model, ffn_size, dtype,
        FLAG_GATED if gated else 0, record_bytes, FFN_ALIGNMENT, file_bytes,
    )
    for l, offset in enumerate(offsets):
        struct.pack_into("<QQ", out, HEADER_FIXED_BYTES + LAYER_ENTRY_BYTES * l, offset, data_bytes)
        records = layer_records(layers[l]).astype(np_dtype)  # [ffnSize, record values]
        out[offset:offset + data_bytes] = records.tobytes()
    return bytes(out)


def write_ffn_bin(path: Path, layers: Sequence[FfnLayer], dtype: int) -> FfnHeader:
    data = encode_ffn_bin(layers, dtype)
    Path(path).write_bytes(data)
    return parse_ffn_header(data)


def parse_ffn_header(data: bytes) -> FfnHeader:
    """Validates the header and layer table against the whole file `data`, as FORMAT.md §3 says."""
    if len(data) < HEADER_FIXED_BYTES or data[:4] != FFN_MAGIC:
        raise ModelFileCorruptError("ffn.bin: wrong magic")
    (version,) = struct.unpack_from("<I", data, 4)
    if version != FFN_VERSION:
        raise ModelFormatUnsupportedError(f"ffn.bin: version {version}, this reader reads {FFN_VERSION}")
    (header_bytes, layers, d_model, ffn_size, dtype, flags, record_bytes, alignment,
     file_bytes) = struct.unpack_from("<IIIIIIIIQ", data, 8)
    if dtype not in DTYPES:
        raise ModelFormatUnsupportedError(f"ffn.bin: unknown dtype code {dtype}")
    if flags & ~FLAG_GATED:
        raise ModelFormatUnsupportedError(f"ffn.bin: unknown flags 0x{flags:x}")
    gated = bool(flags & FLAG_GATED)
    if len(data) < file_bytes:
        raise ModelFileCorruptError(f"ffn.bin: truncated ({len(data)} of {file_bytes} bytes)")
    if header_bytes != HEADER_FIXED_BYTES + LAYER_ENTRY_BYTES * layers or header_bytes > file_bytes:
        raise ModelFileCorruptError(f"ffn.bin: headerBytes {header_bytes} does not match {layers} layers")
    if record_bytes != (3 if gated else 2) * d_model * DTYPES[dtype].itemsize:
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


def read_ffn_records(data: bytes, header: FfnHeader, layer: int) -> np.ndarray:
    """[ffnSize, record values] f32 of one layer, as stored (gate | up | down column per row)."""
    offset, size = header.layer_table[layer]
    values = np.frombuffer(data, dtype=DTYPES[header.dtype], count=size // DTYPES[header.dtype].itemsize,
                           offset=offset)
    return values.reshape(header.ffn_size, -1).astype(np.float32)


def read_ffn_bin(path: Path) -> tuple[FfnHeader, list[FfnLayer]]:
    """Reads every layer back into the model's orientation (f16 files widen to f32)."""
    data = Path(path).read_bytes()
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
    if manifest.get("format") != MANIFEST_FORMAT or manifest.get("formatVersion") != MANIFEST_FORMAT_VERSION:
        raise ModelFormatUnsupportedError("manifest.json: not a flashcode-model v1 manifest")
    for name, expected in manifest["files"].items():
        if file_entry(model_dir / name) != expected:
            raise ModelFileCorruptError(f"{name}: size or sha256 differs from manifest.json")
    return manifest
