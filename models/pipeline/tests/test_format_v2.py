"""Format v2 (FORMAT.md §Q, §W, §F): q8_32, weights.bin, ffn.bin version 3, and the committed goldens."""
from __future__ import annotations

import json
import struct
import unittest
from pathlib import Path

import numpy as np

from flashcode_format import (DTYPE_Q8, FFN_VERSION_Q8, FfnLayer, ModelFileCorruptError, ModelFormatUnsupportedError,
                              decode_ffn_bin, dequantize_q8, encode_ffn_bin, parse_ffn_header, quantize_q8, read_ffn_q8)
from flashcode_format_v2 import (decode_q4, dequantize_q4, encode_weights_bin, parse_weights_bin, quantize_q4, read_tensor,
                                 tensor_specs)
from golden_q4 import GOLDEN_Q4_FILE, golden_q4_weights
from golden_q8 import GOLDEN_ARCH, GOLDEN_FFN_Q8_FILES, golden_ffn_layers, golden_weights

GOLDEN = Path(__file__).resolve().parents[3] / "test" / "golden"


class Q8Test(unittest.TestCase):
    def test_ties_round_to_even_and_scale_is_max_over_127(self):
        s = np.float32(2.0 ** -4)
        row = np.array([127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5] + [0] * 24, dtype=np.float32) * s
        q, scale = quantize_q8(row[None, :])
        self.assertEqual(scale[0, 0], s)
        self.assertEqual(q[0, :8].tolist(), [127, 0, 2, 2, 0, -2, -2, 126])

    def test_scale_is_the_nearest_f16_of_max_over_127(self):
        rows = np.random.default_rng(2).standard_normal((16, 64)).astype(np.float32) * np.float32(3.0)
        _, scale = quantize_q8(rows)
        raw = (np.abs(rows).reshape(16, 2, 32).max(axis=2) / np.float32(127)).astype(np.float32)
        self.assertEqual(scale.tolist(), raw.astype(np.float16).astype(np.float32).tolist())
        self.assertTrue((scale > raw).any() and (scale < raw).any())  # rounded up and down

    def test_scale_rounding_halfway_cases_and_f16_subnormals(self):
        cases = [  # max|w| → scale
            (127 * (1 + 2.0 ** -11), 1.0),                # halfway between 1 and 1 + 2^−10: to even (down)
            (127 * (1 + 3 * 2.0 ** -11), 1 + 2.0 ** -9),  # halfway: to even (up)
            (127 * 5.4 * 2.0 ** -24, 5 * 2.0 ** -24),     # f16 subnormal: a multiple of 2^−24
            (127 * 2.0 ** -25, 0.0),                      # halfway between 0 and 2^−24: to even, 0
            (127 * 1.01 * 2.0 ** -25, 2.0 ** -24),
            (127 * 65519.0, 65504.0),                     # f16's largest value
        ]
        rows = np.zeros((len(cases), 32), dtype=np.float32)
        rows[:, 0] = [m for m, _ in cases]
        q, scale = quantize_q8(rows)
        self.assertEqual(scale[:, 0].tolist(), [s for _, s in cases])
        self.assertEqual(q[:, 0].tolist(), [127, 127, 127, 0, 64, 127])  # 64: a scale rounded up to twice max/127

    def test_a_subnormal_scale_rounded_down_clamps_to_127(self):
        row = np.zeros((1, 32), dtype=np.float32)
        row[0, :2] = [-127 * 1.4 * 2.0 ** -24, 127 * 2.0 ** -24]
        q, scale = quantize_q8(row)
        self.assertEqual(scale[0, 0], np.float32(2.0 ** -24))
        self.assertEqual(q[0, :2].tolist(), [-127, 127])  # −177.8 clamped

    def test_zero_and_underflowing_blocks_have_scale_0_and_q_0(self):
        rows = np.zeros((3, 32), dtype=np.float32)
        rows[1] = np.arange(32) * np.float32(2.0 ** -149)  # max / 127 underflows to 0 in f32
        rows[2] = np.arange(32) * np.float32(2.0 ** -35)   # max / 127 ≈ 2^−35.0 rounds to 0 in f16
        q, scale = quantize_q8(rows)
        self.assertEqual(scale.tolist(), [[0.0], [0.0], [0.0]])
        self.assertFalse(np.signbit(scale).any())
        self.assertFalse(q.any())

    def test_refuses_a_scale_past_f16s_largest_value(self):
        rows = np.ones((2, 64), dtype=np.float32)
        rows[1, 40] = -127 * 65520.0
        with self.assertRaisesRegex(ValueError, r"exceeds f16's largest value 65504 .*row 1, block 1"):
            quantize_q8(rows)
        rows[1, 40] = np.nextafter(np.float32(127 * 65520.0), np.float32(0))
        self.assertEqual(quantize_q8(rows)[1][1, 1], np.float32(65504))

    def test_round_trip_within_half_a_scale_and_never_minus_128(self):
        rows = np.random.default_rng(1).standard_normal((8, 64)).astype(np.float32)
        q, scale = quantize_q8(rows)
        self.assertGreaterEqual(int(q.min()), -127)
        err = np.abs(dequantize_q8(q, scale) - rows).reshape(8, 2, 32)
        self.assertTrue((err <= scale[:, :, None] / 2 * 1.0001).all())

    def test_refuses_non_finite_and_ragged_blocks(self):
        with self.assertRaises(ValueError):
            quantize_q8(np.full((1, 32), np.inf, dtype=np.float32))
        with self.assertRaises(ValueError):
            quantize_q8(np.zeros((1, 16), dtype=np.float32))


class GoldenV2Test(unittest.TestCase):
    def setUp(self):
        self.golden = json.loads((GOLDEN / "q8-golden.json").read_text(encoding="utf-8"))

    def test_writer_reproduces_committed_bytes(self):
        self.assertEqual(encode_weights_bin(golden_weights(), GOLDEN_ARCH), (GOLDEN / "weights-q8.bin").read_bytes())
        for name, *shape in GOLDEN_FFN_Q8_FILES:
            self.assertEqual(encode_ffn_bin(golden_ffn_layers(*shape), DTYPE_Q8), (GOLDEN / name).read_bytes(), name)

    def test_reader_reads_the_weights_golden_back_exactly(self):
        data = (GOLDEN / "weights-q8.bin").read_bytes()
        g = self.golden["weights"]
        data_start, tensors = parse_weights_bin(data, GOLDEN_ARCH)
        self.assertEqual(data_start, g["dataStart"])
        self.assertEqual(list(tensors), [t["name"] for t in g["tensors"]])
        for t in g["tensors"]:
            values = read_tensor(data, tensors[t["name"]]).reshape(-1)
            if t["dtype"] == "f32":
                self.assertEqual(values.tolist(), t["values"])
            else:
                q = np.array(t["quants"], dtype=np.float32)
                s = np.repeat(np.array(t["scales"], dtype=np.float32), 32)
                self.assertEqual(values.tolist(), (q * s).astype(np.float32).tolist(), t["name"])

    def test_reader_reads_the_ffn_goldens_back_exactly(self):
        for g in self.golden["ffn"]:
            data = (GOLDEN / g["file"]).read_bytes()
            h = parse_ffn_header(data)
            self.assertEqual((h.version, h.dtype, h.record_bytes), (FFN_VERSION_Q8, DTYPE_Q8, g["header"]["recordBytes"]))
            for l in range(h.layers):
                q, scale = read_ffn_q8(data, h, l)
                self.assertEqual(q.tolist(), g["quants"][l])
                self.assertEqual(scale.tolist(), g["scales"][l])
            _, layers = decode_ffn_bin(data)
            self.assertEqual(layers[0].w_gate is not None, g["header"]["gated"])


class WeightsBinTest(unittest.TestCase):
    def setUp(self):
        self.data = (GOLDEN / "weights-q8.bin").read_bytes()

    def test_every_tensor_of_every_architecture_variant(self):
        for tied, bias, act in [(True, False, "relu"), (False, True, "silu")]:
            arch = {**GOLDEN_ARCH, "tiedEmbeddings": tied, "attentionBias": bias, "ffnActivation": act}
            names = set(tensor_specs(arch))
            self.assertEqual("head" in names, not tied)
            self.assertEqual("layers.0.qkv_bias" in names, bias)
            self.assertEqual("layers.0.ffn_gate" in names, act == "silu")

    def test_rejections(self):
        with self.assertRaises(ModelFileCorruptError):
            parse_weights_bin(b"FCWX" + self.data[4:])
        with self.assertRaises(ModelFormatUnsupportedError):
            parse_weights_bin(self.data[:4] + struct.pack("<I", 3) + self.data[8:])
        with self.assertRaises(ModelFileCorruptError):
            parse_weights_bin(self.data[:-64])
        with self.assertRaisesRegex(ModelFileCorruptError, "unexpected"):
            parse_weights_bin(self.data, {**GOLDEN_ARCH, "tiedEmbeddings": True})
        with self.assertRaisesRegex(ModelFileCorruptError, "architecture needs"):
            parse_weights_bin(self.data, {**GOLDEN_ARCH, "vocabSize": 5})

    def test_nan_scale_is_corrupt(self):
        _, tensors = parse_weights_bin(self.data, GOLDEN_ARCH)
        e = tensors["layers.0.out"]
        bad = bytearray(self.data)
        struct.pack_into("<f", bad, e["offset"] + 32 * 32, float("nan"))
        with self.assertRaisesRegex(ModelFileCorruptError, "layers.0.out"):
            read_tensor(bytes(bad), e)

    def test_a_q8_scale_that_is_not_an_f16_value_is_corrupt(self):
        _, tensors = parse_weights_bin(self.data, GOLDEN_ARCH)
        e = tensors["layers.0.out"]
        for scale in (1 + 2.0 ** -12, 65536.0, 2.0 ** -25, -0.0, -1.0):
            bad = bytearray(self.data)
            struct.pack_into("<f", bad, e["offset"] + 32 * 32 + 4, scale)
            with self.assertRaisesRegex(ModelFileCorruptError, "layers.0.out .*not an f16 value", msg=scale):
                read_tensor(bytes(bad), e)

    def test_writer_refuses_missing_tensors_and_wrong_shapes(self):
        values = golden_weights()
        with self.assertRaisesRegex(ValueError, "missing"):
            encode_weights_bin({k: v for k, v in values.items() if k != "final_norm"}, GOLDEN_ARCH)
        with self.assertRaisesRegex(ValueError, "shape"):
            encode_weights_bin({**values, "final_norm": np.zeros(31, np.float32)}, GOLDEN_ARCH)


class Q4Test(unittest.TestCase):
    def test_nibble_order_min_and_scale(self):
        row = np.arange(32, dtype=np.float32)[None, :] / np.float32(31 / 15) - np.float32(2)  # min −2, span 15
        nibbles, scale, lo = quantize_q4(row)
        self.assertEqual((scale[0, 0], lo[0, 0]), (np.float32(1), np.float32(-2)))
        q = np.rint(np.arange(32) * 15 / 31).astype(np.uint8)  # ties: 31/2 → 15.5/2 …
        self.assertEqual(nibbles[0].tolist(), (q[:16] | (q[16:] << 4)).tolist())

    def test_round_trip_within_half_a_step_and_zero_normalised(self):
        rows = np.random.default_rng(2).standard_normal((6, 64)).astype(np.float32)
        rows[0, :32] = 0
        rows[0, 3] = -0.0
        nibbles, scale, lo = quantize_q4(rows)
        self.assertFalse(np.signbit(lo[0, 0]) or np.signbit(scale[0, 0]))
        err = np.abs(dequantize_q4(nibbles, scale, lo) - rows).reshape(6, 2, 32)
        self.assertTrue((err <= scale[:, :, None] / 2 * 1.0001 + 1e-7).all())

    def test_refuses_non_finite_and_overflowing_spans(self):
        with self.assertRaises(ValueError):
            quantize_q4(np.full((1, 32), np.nan, dtype=np.float32))
        with self.assertRaises(ValueError):
            quantize_q4(np.array([[3e38, -3e38] + [0] * 30], dtype=np.float32))

    def test_q4_golden_written_and_read_back(self):
        values, q4 = golden_q4_weights()
        data = (GOLDEN / GOLDEN_Q4_FILE).read_bytes()
        self.assertEqual(encode_weights_bin(values, GOLDEN_ARCH, q4), data)
        self.assertEqual(struct.unpack_from("<I", data, 4)[0], 2)
        golden = json.loads((GOLDEN / "q4-golden.json").read_text(encoding="utf-8"))["weights"]
        _, tensors = parse_weights_bin(data, GOLDEN_ARCH)
        for t in golden["tensors"]:
            if t["dtype"] != "q4_32":
                continue
            nibbles, scale, lo = decode_q4(data, *t["shape"], t["offset"])
            self.assertEqual(nibbles.reshape(-1).tolist(), t["nibbles"], t["name"])
            self.assertEqual(read_tensor(data, tensors[t["name"]]).reshape(-1).tolist(),
                             dequantize_q4(nibbles, scale, lo).reshape(-1).tolist())

    def test_q4_rejections(self):
        data = bytearray((GOLDEN / GOLDEN_Q4_FILE).read_bytes())
        v1 = bytes(data[:4]) + struct.pack("<I", 1) + bytes(data[8:])
        with self.assertRaisesRegex(ModelFormatUnsupportedError, "q4_32"):
            parse_weights_bin(v1)
        _, tensors = parse_weights_bin(bytes(data), GOLDEN_ARCH)
        e = tensors["layers.0.out"]
        struct.pack_into("<f", data, e["offset"] + 32 * 16 + 32 * 4 + 4, float("inf"))  # min 1
        with self.assertRaisesRegex(ModelFileCorruptError, "layers.0.out"):
            read_tensor(bytes(data), e)


class FfnV3Test(unittest.TestCase):
    def test_version_3_holds_q8_only(self):
        layers = [FfnLayer(None, np.ones((2, 32), np.float32), np.ones((32, 2), np.float32))]
        data = bytearray(encode_ffn_bin(layers, DTYPE_Q8))
        self.assertEqual(parse_ffn_header(bytes(data)).version, FFN_VERSION_Q8)
        struct.pack_into("<I", data, 4, 2)
        with self.assertRaises(ModelFormatUnsupportedError):
            parse_ffn_header(bytes(data))
        with self.assertRaises(ValueError):
            encode_ffn_bin([FfnLayer(None, np.ones((2, 8), np.float32), np.ones((8, 2), np.float32))], DTYPE_Q8)


if __name__ == "__main__":
    unittest.main()
