"""convert_ffn.py on the fixture model (test/fixtures/tiny-model, f32) into a temporary directory."""
from __future__ import annotations

import contextlib
import io
import json
import tempfile
import unittest
from pathlib import Path

import numpy as np

from convert_ffn import convert, converted_notes, main
from flashcode_format import (DTYPE_F16, DTYPE_F32, DTYPE_I8, ModelFileCorruptError, decode_ffn_bin, layer_records,
                              verify_manifest_files)

FIXTURE = Path(__file__).resolve().parents[3] / "test" / "fixtures" / "tiny-model"


def records(path: Path) -> tuple[object, list[np.ndarray]]:
    header, layers = decode_ffn_bin(path.read_bytes())
    return header, [layer_records(layer) for layer in layers]


class ConvertFixtureTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.root = Path(self.tmp.name)

    def test_int8_rewrites_ffn_bin_and_its_manifest_entry_only(self):
        out = self.root / "int8"
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            self.assertEqual(main(["--model-dir", str(FIXTURE), "--out", str(out), "--dtype", "int8"]), 0)
        self.assertIn("float32 → int8, recordBytes 768 → 204", printed.getvalue())

        self.assertEqual(sorted(p.name for p in out.iterdir()), sorted(p.name for p in FIXTURE.iterdir()))
        for f in FIXTURE.iterdir():
            if f.name not in ("ffn.bin", "manifest.json"):
                self.assertEqual((out / f.name).read_bytes(), f.read_bytes(), f.name)
        source = json.loads((FIXTURE / "manifest.json").read_text(encoding="utf-8"))
        converted = verify_manifest_files(out)
        self.assertNotEqual(converted["files"]["ffn.bin"], source["files"]["ffn.bin"])
        converted["files"]["ffn.bin"] = source["files"]["ffn.bin"]
        self.assertEqual(converted, source)  # notes do not name the fixture's dtype, so they stay

        header, got = records(out / "ffn.bin")
        _, want = records(FIXTURE / "ffn.bin")
        self.assertEqual((header.version, header.dtype, header.record_bytes), (2, DTYPE_I8, 3 * 4 + 3 * 64))
        self.assertLess((out / "ffn.bin").stat().st_size, (FIXTURE / "ffn.bin").stat().st_size)
        for g, w in zip(got, want):
            rows, decoded = w.reshape(-1, 64), g.reshape(-1, 64)  # one row per part
            step = np.abs(rows).max(axis=1, keepdims=True) / 127
            self.assertTrue((np.abs(rows - decoded) <= step / 2 * (1 + 1e-6)).all())

    def test_back_to_f32_holds_the_dequantised_values_exactly(self):
        convert(FIXTURE, self.root / "int8", DTYPE_I8)
        result = convert(self.root / "int8", self.root / "f32", DTYPE_F32)
        self.assertEqual(result["recordBytes"], (204, 768))
        header, got = records(self.root / "f32" / "ffn.bin")
        _, int8 = records(self.root / "int8" / "ffn.bin")
        self.assertEqual((header.version, header.dtype), (1, DTYPE_F32))
        for g, w in zip(got, int8):
            np.testing.assert_array_equal(g, w)

    def test_f16_and_the_same_dtype(self):
        convert(FIXTURE, self.root / "f16", DTYPE_F16)
        header, got = records(self.root / "f16" / "ffn.bin")
        _, want = records(FIXTURE / "ffn.bin")
        self.assertEqual((header.version, header.dtype, header.record_bytes), (1, DTYPE_F16, 3 * 64 * 2))
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w.astype(np.float16).astype(np.float32))
        result = convert(FIXTURE, self.root / "same", DTYPE_F32)
        self.assertEqual(result["maxAbsChange"], 0.0)
        for name in ("ffn.bin", "manifest.json"):
            self.assertEqual((self.root / "same" / name).read_bytes(), (FIXTURE / name).read_bytes())

    def test_refuses_a_non_empty_out_and_an_unverified_source(self):
        (self.root / "taken").mkdir()
        (self.root / "taken" / "x").write_bytes(b"x")
        with contextlib.redirect_stderr(io.StringIO()) as err:
            self.assertEqual(main(["--model-dir", str(FIXTURE), "--out", str(self.root / "taken"), "--dtype", "int8"]), 2)
        self.assertIn("not empty", err.getvalue())

        damaged = self.root / "damaged"
        convert(FIXTURE, damaged, DTYPE_F32)
        data = bytearray((damaged / "ffn.bin").read_bytes())
        data[5000] ^= 1
        (damaged / "ffn.bin").write_bytes(bytes(data))
        with self.assertRaises(ModelFileCorruptError):
            convert(damaged, self.root / "never", DTYPE_I8)
        self.assertFalse((self.root / "never").exists())


class NotesTest(unittest.TestCase):
    EXPORTED = "Tied embeddings. FFN weights in ffn.bin as float16. Written by models/pipeline/export_model.py."

    def test_names_the_new_dtype_and_the_exported_one(self):
        int8 = converted_notes(self.EXPORTED, DTYPE_F16, DTYPE_I8)
        self.assertEqual(int8, "Tied embeddings. FFN weights in ffn.bin as int8 (converted from float16 by "
                               "models/pipeline/convert_ffn.py). Written by models/pipeline/export_model.py.")
        f32 = converted_notes(int8, DTYPE_I8, DTYPE_F32)
        self.assertIn("ffn.bin as float32 (converted from float16 by models/pipeline/convert_ffn.py).", f32)
        self.assertEqual(converted_notes(int8, DTYPE_I8, DTYPE_F16), self.EXPORTED)

    def test_notes_without_the_dtype_stay(self):
        notes = "Random weights from seed 1."
        self.assertEqual(converted_notes(notes, DTYPE_F32, DTYPE_I8), notes)


if __name__ == "__main__":
    unittest.main()
