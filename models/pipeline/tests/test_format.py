"""ffn.bin and predictors.bin writers/readers (FORMAT.md §3, §4) and the committed cross-language goldens."""
from __future__ import annotations

import json
import struct
import tempfile
import unittest
from pathlib import Path

import numpy as np

from flashcode_format import (DTYPE_F16, DTYPE_F32, DTYPE_I8, FFN_VERSION, FFN_VERSION_INT8, FfnLayer,
                              ModelFileCorruptError, ModelFormatUnsupportedError, PREDICTORS_MAGIC, PREDICTORS_VERSION,
                              PredictorLayer, decode_ffn_bin, decode_predictors_bin, dequantize_int8, encode_ffn_bin,
                              encode_predictors_bin, layer_records, parse_ffn_header, parse_predictors_header,
                              predictors_manifest_entry, quantize_int8, read_ffn_bin, read_ffn_int8,
                              verify_manifest_files, write_ffn_bin, write_manifest)
from make_golden import (GOLDEN_FILES, GOLDEN_INT8_FILES, GOLDEN_INT8_ZERO_PART, GOLDEN_PREDICTOR_FILES,
                         golden_int8_layers, golden_int8_q, golden_int8_scale, golden_layers, golden_predictor_layers)

GOLDEN = Path(__file__).resolve().parents[3] / "test" / "golden"


def random_layers(rng: np.random.Generator, layers: int, d: int, k: int, gated: bool) -> list[FfnLayer]:
    return [FfnLayer(w_gate=rng.standard_normal((k, d)).astype(np.float32) if gated else None,
                     w_up=rng.standard_normal((k, d)).astype(np.float32),
                     w_down=rng.standard_normal((d, k)).astype(np.float32)) for _ in range(layers)]


class GoldenFilesTest(unittest.TestCase):
    def test_writer_reproduces_committed_golden_bytes(self):
        for name, layers, d, k, gated, dtype in GOLDEN_FILES:
            with self.subTest(name):
                self.assertEqual(encode_ffn_bin(golden_layers(layers, d, k, gated), dtype), (GOLDEN / name).read_bytes())
        for name, layers, d, k, gated in GOLDEN_INT8_FILES:
            with self.subTest(name):
                self.assertEqual(encode_ffn_bin(golden_int8_layers(layers, d, k, gated), DTYPE_I8),
                                 (GOLDEN / name).read_bytes())

    def test_golden_json_describes_the_files(self):
        doc = json.loads((GOLDEN / "ffn-golden.json").read_text(encoding="utf-8"))
        self.assertEqual([e["file"] for e in doc["files"]], [g[0] for g in GOLDEN_FILES + GOLDEN_INT8_FILES])
        for entry in doc["files"]:
            with self.subTest(entry["file"]):
                data = (GOLDEN / entry["file"]).read_bytes()
                h = parse_ffn_header(data)
                want = entry["header"]
                self.assertEqual(len(data), entry["bytes"])
                self.assertEqual((h.version, h.header_bytes, h.layers, h.d_model, h.ffn_size, h.dtype, h.gated,
                                  h.record_bytes, h.alignment, h.file_bytes),
                                 (want["version"], want["headerBytes"], want["layers"], want["dModel"], want["ffnSize"],
                                  want["dtype"], want["gated"], want["recordBytes"], want["alignment"], want["fileBytes"]))
                self.assertEqual([list(t) for t in h.layer_table],
                                 [[t["dataOffset"], t["dataBytes"]] for t in want["layerTable"]])
                _, layers = read_ffn_bin(GOLDEN / entry["file"])
                for l, layer in enumerate(layers):
                    # Exact: the formula's values are representable in f16 and f32 (and int8 × scale).
                    self.assertEqual(layer_records(layer).tolist(), entry["records"][l])
                self.assertEqual("int8" in entry, h.dtype == DTYPE_I8)
                if h.dtype == DTYPE_I8:
                    for l in range(h.layers):
                        scale, q = read_ffn_int8(data, h, l)
                        self.assertEqual(scale.tolist(), entry["scales"][l])
                        self.assertEqual(q.tolist(), entry["int8"][l])

    def test_golden_values_follow_the_documented_formula(self):
        _, layers = read_ffn_bin(GOLDEN / "ffn-f32.bin")
        self.assertEqual(layers[1].w_gate[2, 7], 2 + 2 / 8 + 7 / 256)
        self.assertEqual(layers[1].w_up[2, 7], -(2 + 2 / 8 + 7 / 256))
        self.assertEqual(layers[1].w_down[7, 2], (2 + 2 / 8 + 7 / 256) / 2)

    def test_int8_golden_stores_the_documented_q_and_scales(self):
        name, n_layers, d, k, gated = GOLDEN_INT8_FILES[0]
        data = (GOLDEN / name).read_bytes()
        h = parse_ffn_header(data)
        self.assertEqual((h.version, h.dtype, h.record_bytes), (2, DTYPE_I8, 3 * 4 + 3 * d))
        for l in range(n_layers):
            scale, q = read_ffn_int8(data, h, l)  # [ffnSize, 3], [ffnSize, 3 * d]
            for j in range(k):
                for p in range(3):
                    self.assertEqual(scale[j, p], golden_int8_scale(l, p, j))
                    self.assertEqual(q[j, p * d:(p + 1) * d].tolist(), [golden_int8_q(l, p, j, c, d) for c in range(d)])
        zl, zp, zj = GOLDEN_INT8_ZERO_PART
        self.assertEqual(read_ffn_int8(data, h, zl)[0][zj, zp], 0.0)
        self.assertEqual(read_ffn_int8(data, h, 0)[1][0, 0], 127)  # layer 0, gate of neuron 0: +127 at k = 0
        # Exact quantisation: decoding gives back the weights that were written.
        _, back = decode_ffn_bin(data)
        for a, b in zip(golden_int8_layers(n_layers, d, k, gated), back):
            self.assertEqual(layer_records(a).tolist(), layer_records(b).tolist())


class RoundTripTest(unittest.TestCase):
    def test_f32_round_trips_exactly(self):
        layers = random_layers(np.random.default_rng(1), 3, 16, 5, gated=True)
        with tempfile.TemporaryDirectory() as tmp:
            header = write_ffn_bin(Path(tmp) / "ffn.bin", layers, DTYPE_F32)
            read_header, back = read_ffn_bin(Path(tmp) / "ffn.bin")
        self.assertEqual(header, read_header)
        for a, b in zip(layers, back):
            np.testing.assert_array_equal(a.w_gate, b.w_gate)
            np.testing.assert_array_equal(a.w_up, b.w_up)
            np.testing.assert_array_equal(a.w_down, b.w_down)

    def test_f16_round_trips_to_f16_precision(self):
        layers = random_layers(np.random.default_rng(2), 1, 8, 4, gated=False)
        header, back = read_ffn_bin_bytes(encode_ffn_bin(layers, DTYPE_F16))
        self.assertFalse(header.gated)
        self.assertIsNone(back[0].w_gate)
        np.testing.assert_array_equal(back[0].w_up, layers[0].w_up.astype(np.float16).astype(np.float32))
        np.testing.assert_array_equal(back[0].w_down, layers[0].w_down.astype(np.float16).astype(np.float32))

    def test_layout_is_aligned_and_padding_is_zero(self):
        for dtype in (DTYPE_F32, DTYPE_I8):
            with self.subTest(dtype=dtype):
                data = encode_ffn_bin(random_layers(np.random.default_rng(3), 2, 8, 3, gated=True), dtype)
                h = parse_ffn_header(data)
                self.assertEqual(len(data) % 4096, 0)
                self.assertEqual(h.header_bytes, 64 + 16 * 2)
                self.assertEqual(data[48:64], bytes(16))
                cursor = h.header_bytes
                for offset, size in h.layer_table:
                    self.assertEqual(offset % 4096, 0)
                    self.assertEqual(data[cursor:offset], bytes(offset - cursor))
                    cursor = offset + size
                self.assertEqual(data[cursor:], bytes(len(data) - cursor))

    def test_float_files_are_version_1_and_int8_files_version_2(self):
        layers = random_layers(np.random.default_rng(9), 1, 8, 3, gated=True)
        versions = {dtype: parse_ffn_header(encode_ffn_bin(layers, dtype)).version
                    for dtype in (DTYPE_F32, DTYPE_F16, DTYPE_I8)}
        self.assertEqual(versions, {DTYPE_F32: FFN_VERSION, DTYPE_F16: FFN_VERSION, DTYPE_I8: FFN_VERSION_INT8})
        self.assertEqual((FFN_VERSION, FFN_VERSION_INT8), (1, 2))

    def test_int8_header_fields(self):
        for gated, parts in ((True, 3), (False, 2)):
            with self.subTest(gated=gated):
                data = encode_ffn_bin(random_layers(np.random.default_rng(10), 3, 10, 7, gated), DTYPE_I8)
                h = parse_ffn_header(data)
                self.assertEqual((h.version, h.layers, h.d_model, h.ffn_size, h.dtype, h.gated, h.record_bytes),
                                 (2, 3, 10, 7, DTYPE_I8, gated, parts * 4 + parts * 10))
                self.assertEqual([size for _, size in h.layer_table], [7 * h.record_bytes] * 3)
                self.assertEqual(struct.unpack_from("<I", data, 4)[0], 2)

    def test_int8_round_trips_within_half_a_step(self):
        for gated in (True, False):
            with self.subTest(gated=gated):
                layers = random_layers(np.random.default_rng(11), 2, 32, 9, gated)
                header, back = decode_ffn_bin(encode_ffn_bin(layers, DTYPE_I8))
                self.assertEqual(header.gated, gated)
                for a, b in zip(layers, back):
                    rows, decoded = layer_records(a).reshape(-1, 32), layer_records(b).reshape(-1, 32)  # a row per part
                    step = np.abs(rows).max(axis=1, keepdims=True) / 127
                    error = np.abs(rows - decoded)
                    self.assertTrue((error <= step / 2 * (1 + 1e-6)).all(), float((error / step).max()))
                    self.assertTrue((error > 0).any())  # random weights are not all exact

    def test_int8_record_holds_scales_then_int8_parts(self):
        layer = random_layers(np.random.default_rng(12), 1, 8, 3, gated=True)[0]
        data = encode_ffn_bin([layer], DTYPE_I8)
        offset, _ = parse_ffn_header(data).layer_table[0]
        at = offset + 1 * (3 * 4 + 3 * 8)  # record 1
        scales = np.frombuffer(data, dtype="<f4", count=3, offset=at)
        q = np.frombuffer(data, dtype="i1", count=3 * 8, offset=at + 12).reshape(3, 8)
        want_q, want_scale = quantize_int8(np.stack([layer.w_gate[1], layer.w_up[1], layer.w_down[:, 1]]))
        np.testing.assert_array_equal(scales, want_scale)
        np.testing.assert_array_equal(q, want_q)
        self.assertEqual(np.abs(q).max(axis=1).tolist(), [127, 127, 127])

    def test_quantize_int8_rounds_ties_to_even_and_handles_zero_rows(self):
        rows = np.array([[127.0, 0.5, 1.5, -2.5, -127.0], [0.0] * 5, [-1.0, 0.25, 0.0, 0.0, 0.0]], dtype=np.float32)
        q, scale = quantize_int8(rows)
        self.assertEqual(scale.tolist(), [1.0, 0.0, float(np.float32(1) / np.float32(127))])
        self.assertEqual(q[0].tolist(), [127, 0, 2, -2, -127])
        self.assertEqual(q[1].tolist(), [0] * 5)
        self.assertEqual(q[2].tolist(), [-127, 32, 0, 0, 0])  # 0.25 × 127 = 31.75
        np.testing.assert_array_equal(dequantize_int8(q, scale)[0], [127, 0, 2, -2, -127])
        self.assertEqual(q.dtype, np.int8)
        self.assertEqual(scale.dtype, np.float32)

    def test_int8_refuses_non_finite_weights(self):
        layers = random_layers(np.random.default_rng(13), 1, 4, 2, gated=False)
        layers[0].w_up[1, 2] = np.inf
        with self.assertRaisesRegex(ValueError, "finite"):
            encode_ffn_bin(layers, DTYPE_I8)

    def test_record_bundles_gate_row_up_row_and_down_column(self):
        layer = random_layers(np.random.default_rng(4), 1, 8, 3, gated=True)[0]
        data = encode_ffn_bin([layer], DTYPE_F32)
        offset, _ = parse_ffn_header(data).layer_table[0]
        record1 = np.frombuffer(data, dtype="<f4", count=24, offset=offset + 1 * 24 * 4)
        np.testing.assert_array_equal(record1, np.concatenate([layer.w_gate[1], layer.w_up[1], layer.w_down[:, 1]]))


def read_ffn_bin_bytes(data: bytes):
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "ffn.bin").write_bytes(data)
        return read_ffn_bin(Path(tmp) / "ffn.bin")


class RejectionTest(unittest.TestCase):
    def setUp(self):
        self.data = bytearray((GOLDEN / "ffn-f32.bin").read_bytes())

    def patch_u32(self, offset: int, value: int) -> bytes:
        struct.pack_into("<I", self.data, offset, value)
        return bytes(self.data)

    def test_wrong_magic(self):
        self.data[0:4] = b"GGUF"
        with self.assertRaisesRegex(ModelFileCorruptError, "magic"):
            parse_ffn_header(bytes(self.data))

    def test_other_version(self):
        for version in (0, 4):
            with self.subTest(version=version), self.assertRaisesRegex(ModelFormatUnsupportedError, "version"):
                parse_ffn_header(self.patch_u32(4, version))

    def test_version_2_reads_float_files_too(self):
        _, want = decode_ffn_bin(bytes(self.data))
        header, back = decode_ffn_bin(self.patch_u32(4, 2))
        self.assertEqual(header.version, 2)
        for a, b in zip(want, back):
            self.assertEqual(layer_records(a).tolist(), layer_records(b).tolist())

    def test_truncated(self):
        with self.assertRaisesRegex(ModelFileCorruptError, "truncated"):
            parse_ffn_header(bytes(self.data[:-1]))

    def test_table_entry_past_end(self):
        struct.pack_into("<Q", self.data, 64 + 16, 1 << 20)
        with self.assertRaisesRegex(ModelFileCorruptError, "truncated"):
            parse_ffn_header(bytes(self.data))

    def test_int8_in_a_version_1_file(self):
        with self.assertRaisesRegex(ModelFormatUnsupportedError, "int8"):
            parse_ffn_header(self.patch_u32(24, 2))  # an f32 file's header saying int8
        int8 = bytearray((GOLDEN / "ffn-int8.bin").read_bytes())
        struct.pack_into("<I", int8, 4, 1)
        with self.assertRaisesRegex(ModelFormatUnsupportedError, "int8"):
            parse_ffn_header(bytes(int8))

    def test_unknown_dtype(self):
        with self.assertRaisesRegex(ModelFormatUnsupportedError, "dtype"):
            parse_ffn_header(self.patch_u32(24, 4))

    def test_int8_record_bytes_must_match(self):
        int8 = bytearray((GOLDEN / "ffn-int8.bin").read_bytes())
        struct.pack_into("<I", int8, 32, 3 * 6)  # the parts without their scales
        with self.assertRaisesRegex(ModelFileCorruptError, "recordBytes"):
            parse_ffn_header(bytes(int8))

    def test_unknown_flag(self):
        with self.assertRaises(ModelFormatUnsupportedError):
            parse_ffn_header(self.patch_u32(28, 3))

    def test_writer_refuses_unknown_dtypes(self):
        with self.assertRaises(ModelFormatUnsupportedError):
            encode_ffn_bin(golden_layers(1, 4, 2, False), 4)


def random_predictors(rng: np.random.Generator, d: int, k: int, ranks: list[int]) -> list[PredictorLayer]:
    return [PredictorLayer(a=rng.standard_normal((d, r)).astype(np.float32),
                           b=rng.standard_normal((r, k)).astype(np.float32),
                           bias=rng.standard_normal(k).astype(np.float32),
                           threshold=float(rng.standard_normal())) for r in ranks]


def assert_predictors_equal(test: unittest.TestCase, got: list[PredictorLayer], want: list[PredictorLayer]) -> None:
    test.assertEqual(len(got), len(want))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.a, w.a)
        np.testing.assert_array_equal(g.b, w.b)
        np.testing.assert_array_equal(g.bias, w.bias)
        test.assertEqual(g.threshold, float(np.float32(w.threshold)))


class PredictorsGoldenTest(unittest.TestCase):
    def test_writer_reproduces_committed_golden_bytes(self):
        for name, dtype in GOLDEN_PREDICTOR_FILES:
            with self.subTest(name):
                self.assertEqual(encode_predictors_bin(golden_predictor_layers(), dtype), (GOLDEN / name).read_bytes())

    def test_golden_json_describes_the_files(self):
        doc = json.loads((GOLDEN / "predictors-golden.json").read_text(encoding="utf-8"))
        self.assertEqual([e["file"] for e in doc["files"]], [g[0] for g in GOLDEN_PREDICTOR_FILES])
        for entry in doc["files"]:
            with self.subTest(entry["file"]):
                data = (GOLDEN / entry["file"]).read_bytes()
                h, layers = decode_predictors_bin(data)
                want = entry["header"]
                self.assertEqual(len(data), entry["bytes"])
                self.assertEqual((h.version, h.header_bytes, h.layers, h.d_model, h.ffn_size, h.dtype, h.file_bytes),
                                 (want["version"], want["headerBytes"], want["layers"], want["dModel"],
                                  want["ffnSize"], want["dtype"], want["fileBytes"]))
                self.assertEqual([list(t) for t in h.layer_table],
                                 [[t["dataOffset"], t["dataBytes"], t["rank"], t["threshold"]] for t in want["layerTable"]])
                for layer, described in zip(layers, entry["layers"]):
                    # Exact: the formula's values are representable in f16 and f32.
                    self.assertEqual(layer.a.tolist(), described["a"])
                    self.assertEqual(layer.b.tolist(), described["b"])
                    self.assertEqual(layer.bias.tolist(), described["bias"])

    def test_golden_has_different_ranks_per_layer(self):
        h = parse_predictors_header((GOLDEN / "predictors-f32.bin").read_bytes())
        self.assertEqual([t[2] for t in h.layer_table], [2, 3])

    def test_golden_values_follow_the_documented_formula(self):
        _, layers = decode_predictors_bin((GOLDEN / "predictors-f16.bin").read_bytes())
        self.assertEqual(layers[1].a[3, 2], 2 + 3 / 8 + 2 / 256)
        self.assertEqual(layers[1].b[2, 5], -(2 + 2 / 8 + 5 / 256) / 2)
        self.assertEqual(layers[1].bias[0], -3 / 4 - 1 / 8)
        self.assertEqual([layer.threshold for layer in layers], [0.5, -1.25])


class PredictorsRoundTripTest(unittest.TestCase):
    def test_f32_round_trips_exactly(self):
        layers = random_predictors(np.random.default_rng(5), 16, 40, [1, 7, 3])
        header, back = decode_predictors_bin(encode_predictors_bin(layers, DTYPE_F32))
        self.assertEqual((header.version, header.layers, header.d_model, header.ffn_size, header.dtype),
                         (PREDICTORS_VERSION, 3, 16, 40, DTYPE_F32))
        assert_predictors_equal(self, back, layers)

    def test_f16_round_trips_to_f16_precision(self):
        layers = random_predictors(np.random.default_rng(6), 8, 12, [2, 4])
        _, back = decode_predictors_bin(encode_predictors_bin(layers, DTYPE_F16))
        half = lambda m: m.astype(np.float16).astype(np.float32)
        rounded = [PredictorLayer(a=half(p.a), b=half(p.b), bias=half(p.bias), threshold=p.threshold) for p in layers]
        assert_predictors_equal(self, back, rounded)  # the threshold stays f32

    def test_layout_is_aligned_and_padding_is_zero(self):
        data = encode_predictors_bin(random_predictors(np.random.default_rng(7), 5, 9, [3, 1]), DTYPE_F32)
        h = parse_predictors_header(data)
        self.assertEqual(data[:4], PREDICTORS_MAGIC)
        self.assertEqual(len(data) % 64, 0)
        self.assertEqual(h.file_bytes, len(data))
        self.assertEqual(h.header_bytes, 64 + 32 * 2)
        self.assertEqual(data[28:32], bytes(4))   # flags
        self.assertEqual(data[40:64], bytes(24))  # reserved
        for l in range(2):
            self.assertEqual(data[64 + 32 * l + 24:64 + 32 * l + 32], bytes(8))
        cursor = h.header_bytes
        for offset, size, rank, _ in h.layer_table:
            self.assertEqual(offset % 64, 0)
            self.assertEqual(size, (5 * rank + rank * 9 + 9) * 4)
            self.assertEqual(data[cursor:offset], bytes(offset - cursor))
            cursor = offset + size
        self.assertEqual(data[cursor:], bytes(len(data) - cursor))

    def test_section_holds_a_then_b_then_bias_row_major(self):
        layer = random_predictors(np.random.default_rng(8), 3, 4, [2])[0]
        data = encode_predictors_bin([layer], DTYPE_F32)
        offset = parse_predictors_header(data).layer_table[0][0]
        values = np.frombuffer(data, dtype="<f4", count=3 * 2 + 2 * 4 + 4, offset=offset)
        np.testing.assert_array_equal(values, np.concatenate([layer.a.ravel(), layer.b.ravel(), layer.bias]))
        self.assertEqual(values[1], layer.a[0, 1])

    def test_writer_refuses_bad_shapes_and_dtypes(self):
        good = golden_predictor_layers()
        with self.assertRaises(ModelFormatUnsupportedError):
            encode_predictors_bin(good, 2)
        bad = [
            [PredictorLayer(a=np.zeros((4, 0)), b=np.zeros((0, 6)), bias=np.zeros(6), threshold=0.0)],
            [good[0], PredictorLayer(a=np.zeros((5, 2)), b=np.zeros((2, 6)), bias=np.zeros(6), threshold=0.0)],
            [PredictorLayer(a=np.zeros((4, 2)), b=np.zeros((3, 6)), bias=np.zeros(6), threshold=0.0)],
            [PredictorLayer(a=np.zeros((4, 2)), b=np.zeros((2, 6)), bias=np.zeros(6), threshold=float("nan"))],
            [],
        ]
        for layers in bad:
            with self.subTest(len(layers)), self.assertRaises(ValueError):
                encode_predictors_bin(layers, DTYPE_F32)


class PredictorsRejectionTest(unittest.TestCase):
    def setUp(self):
        self.data = bytearray((GOLDEN / "predictors-f32.bin").read_bytes())

    def patch(self, fmt: str, offset: int, value) -> bytes:
        struct.pack_into(fmt, self.data, offset, value)
        return bytes(self.data)

    def test_wrong_magic(self):
        self.data[0:4] = b"FCFF"
        with self.assertRaisesRegex(ModelFileCorruptError, "magic"):
            decode_predictors_bin(bytes(self.data))

    def test_other_version(self):
        with self.assertRaisesRegex(ModelFormatUnsupportedError, "version 2"):
            decode_predictors_bin(self.patch("<I", 4, 2))

    def test_truncated(self):
        for cut in (1, 100, len(self.data) - 10):
            with self.subTest(cut), self.assertRaisesRegex(ModelFileCorruptError, "truncated|magic"):
                decode_predictors_bin(bytes(self.data[:-cut]))

    def test_table_entry_past_end(self):
        with self.assertRaisesRegex(ModelFileCorruptError, "truncated"):
            decode_predictors_bin(self.patch("<Q", 64 + 32, 1 << 20))

    def test_misaligned_or_inconsistent_section(self):
        for offset, value in ((64, 130), (72, 100), (64, 0)):
            with self.subTest(offset=offset, value=value):
                data = bytearray((GOLDEN / "predictors-f32.bin").read_bytes())
                struct.pack_into("<Q", data, offset, value)
                with self.assertRaisesRegex(ModelFileCorruptError, "inconsistent"):
                    decode_predictors_bin(bytes(data))

    def test_header_bytes_not_matching_layers(self):
        with self.assertRaisesRegex(ModelFileCorruptError, "headerBytes"):
            decode_predictors_bin(self.patch("<I", 12, 3))

    def test_rank_zero(self):
        with self.assertRaisesRegex(ModelFileCorruptError, "rank 0"):
            decode_predictors_bin(self.patch("<I", 64 + 32 + 16, 0))

    def test_non_finite_threshold(self):
        with self.assertRaisesRegex(ModelFileCorruptError, "threshold"):
            decode_predictors_bin(self.patch("<f", 64 + 20, float("inf")))

    def test_unknown_dtype(self):
        with self.assertRaisesRegex(ModelFormatUnsupportedError, "dtype"):
            decode_predictors_bin(self.patch("<I", 24, 2))

    def test_unknown_flags(self):
        with self.assertRaisesRegex(ModelFormatUnsupportedError, "flags"):
            decode_predictors_bin(self.patch("<I", 28, 1))


class PredictorsManifestEntryTest(unittest.TestCase):
    def test_entry_takes_shape_and_threshold_from_the_layers(self):
        layers = [PredictorLayer(a=np.zeros((4, 2)), b=np.zeros((2, 6)), bias=np.zeros(6), threshold=0.1),
                  PredictorLayer(a=np.zeros((4, 3)), b=np.zeros((3, 6)), bias=np.zeros(6), threshold=-1.0)]
        entry = predictors_manifest_entry(layers, recall=[0.991234, 1.0], precision=[0.5, 0.25],
                                          predicted_active_fraction=[0.4, 0.3], measured_on="held-out rows")
        self.assertEqual(entry, {"file": "predictors.bin", "measuredOn": "held-out rows", "perLayer": [
            {"rank": 2, "threshold": float(np.float32(0.1)), "recall": 0.9912, "precision": 0.5,
             "predictedActiveFraction": 0.4, "macsPerToken": 4 * 2 + 2 * 6},
            {"rank": 3, "threshold": -1.0, "recall": 1.0, "precision": 0.25,
             "predictedActiveFraction": 0.3, "macsPerToken": 4 * 3 + 3 * 6},
        ]})
        # The manifest's threshold is the one the file stores.
        _, back = decode_predictors_bin(encode_predictors_bin(layers, DTYPE_F32))
        self.assertEqual([p["threshold"] for p in entry["perLayer"]], [p.threshold for p in back])

    def test_one_figure_per_layer(self):
        with self.assertRaises(ValueError):
            predictors_manifest_entry(golden_predictor_layers(), [1.0], [1.0], [0.5], "x")


class ManifestTest(unittest.TestCase):
    def test_files_are_listed_with_size_and_sha256_and_verified(self):
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            (d / "a.bin").write_bytes(b"abc")
            manifest = write_manifest(d, {"format": "flashcode-model", "formatVersion": 1})
            self.assertEqual(manifest["files"], {"a.bin": {
                "bytes": 3, "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}})
            verify_manifest_files(d)
            (d / "a.bin").write_bytes(b"abd")
            with self.assertRaises(ModelFileCorruptError):
                verify_manifest_files(d)


if __name__ == "__main__":
    unittest.main()
