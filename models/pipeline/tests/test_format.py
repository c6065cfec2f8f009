"""ffn.bin writer/reader (FORMAT.md §3) and the committed cross-language goldens."""
from __future__ import annotations

import json
import struct
import tempfile
import unittest
from pathlib import Path

import numpy as np

from flashcode_format import (DTYPE_F16, DTYPE_F32, FfnLayer, ModelFileCorruptError, ModelFormatUnsupportedError,
                              encode_ffn_bin, layer_records, parse_ffn_header, read_ffn_bin, verify_manifest_files,
                              write_ffn_bin, write_manifest)
from make_golden import GOLDEN_FILES, golden_layers

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

    def test_golden_json_describes_the_files(self):
        doc = json.loads((GOLDEN / "ffn-golden.json").read_text(encoding="utf-8"))
        self.assertEqual([e["file"] for e in doc["files"]], [g[0] for g in GOLDEN_FILES])
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
                    # Exact: the formula's values are representable in f16 and f32.
                    self.assertEqual(layer_records(layer).tolist(), entry["records"][l])

    def test_golden_values_follow_the_documented_formula(self):
        _, layers = read_ffn_bin(GOLDEN / "ffn-f32.bin")
        self.assertEqual(layers[1].w_gate[2, 7], 2 + 2 / 8 + 7 / 256)
        self.assertEqual(layers[1].w_up[2, 7], -(2 + 2 / 8 + 7 / 256))
        self.assertEqual(layers[1].w_down[7, 2], (2 + 2 / 8 + 7 / 256) / 2)


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
        data = encode_ffn_bin(random_layers(np.random.default_rng(3), 2, 8, 3, gated=True), DTYPE_F32)
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
        with self.assertRaises(ModelFormatUnsupportedError):
            parse_ffn_header(self.patch_u32(4, 2))

    def test_truncated(self):
        with self.assertRaisesRegex(ModelFileCorruptError, "truncated"):
            parse_ffn_header(bytes(self.data[:-1]))

    def test_table_entry_past_end(self):
        struct.pack_into("<Q", self.data, 64 + 16, 1 << 20)
        with self.assertRaisesRegex(ModelFileCorruptError, "truncated"):
            parse_ffn_header(bytes(self.data))

    def test_reserved_int8_dtype(self):
        with self.assertRaises(ModelFormatUnsupportedError):
            parse_ffn_header(self.patch_u32(24, 2))

    def test_unknown_flag(self):
        with self.assertRaises(ModelFormatUnsupportedError):
            parse_ffn_header(self.patch_u32(28, 3))

    def test_writer_refuses_int8(self):
        with self.assertRaises(ModelFormatUnsupportedError):
            encode_ffn_bin(golden_layers(1, 4, 2, False), 2)


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
