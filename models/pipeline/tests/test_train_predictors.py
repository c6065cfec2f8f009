"""train_predictors.py on a tiny random CodeLm: thresholds keep the requested recall on the rows they
were chosen on, the result round-trips through predictors.bin, and installing it adds predictors.bin
to a model directory's manifest without touching anything else."""
from __future__ import annotations

import contextlib
import io
import json
import tempfile
import unittest
from pathlib import Path

import numpy as np

try:
    import torch
except ImportError:  # torch is an optional apt package (python3-torch); CI installs it
    torch = None

from flashcode_format import DTYPES, decode_predictors_bin, encode_predictors_bin, file_entry, verify_manifest_files

if torch is not None:
    import train_predictors as tp
    from lm import CodeLm, ModelConfig

VOCAB, CONTEXT = 64, 32
OPTIONS = dict(ranks=(2, 4, 64), recall=0.95, train_rows=24, heldout_rows=8, epochs=2, batch_tokens=256, seed=3)


def tiny_model() -> "CodeLm":
    torch.manual_seed(0)
    model = CodeLm(ModelConfig(vocab=VOCAB, d_model=32, layers=2, heads=2, kv_heads=1, head_dim=16, ffn_size=64,
                               context_tokens=CONTEXT))
    return model.eval()


@unittest.skipIf(torch is None, "torch is not installed (apt-get install python3-torch)")
class TrainPredictorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(1)
        rng = np.random.default_rng(5)
        cls.train_tokens = rng.integers(0, VOCAB, 40 * CONTEXT + 1).astype("<u2")
        cls.heldout_tokens = rng.integers(0, VOCAB, 20 * CONTEXT + 1).astype("<u2")
        cls.model = tiny_model()
        cls.options = tp.Options(**OPTIONS)
        with contextlib.redirect_stderr(io.StringIO()):
            cls.result = tp.train_predictors(cls.model, cls.train_tokens, cls.heldout_tokens, cls.options)

    def test_thresholds_keep_the_requested_recall_on_the_calibration_rows(self):
        _, cal_rows, measure_rows = tp.pick_rows(self.train_tokens, self.heldout_tokens, CONTEXT, self.options)
        self.assertEqual(len(cal_rows), 8)
        self.assertFalse(set(cal_rows) & set(measure_rows))
        cal = tp.capture(self.model, self.heldout_tokens, cal_rows)
        for l, p in enumerate(self.result["layers"]):
            figures = tp.measure(tp.scores_of(p, cal.x[l]), cal.active[l], p.threshold)
            self.assertGreaterEqual(figures["recall"], self.options.recall, f"layer {l}")
            self.assertIn(p.rank, (2, 4, 32), "ranks above d are capped at d")
        self.assertEqual(len(self.result["measured"]), 2)
        self.assertEqual([len(c) for c in self.result["candidates"]], [3, 3])

    def test_the_result_round_trips_through_predictors_bin(self):
        layers, dtype = self.result["layers"], self.result["dtype"]
        _, decoded = decode_predictors_bin(encode_predictors_bin(layers, dtype))
        for want, got in zip(layers, decoded):
            self.assertEqual(got.rank, want.rank)
            self.assertEqual(got.threshold, float(np.float32(want.threshold)))
            for name in ("a", "b", "bias"):
                # the layers are already the stored values, so writing them loses nothing
                np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
                np.testing.assert_array_equal(getattr(want, name).astype(DTYPES[dtype]).astype(np.float32),
                                              getattr(want, name))

    def test_choose_threshold_is_the_largest_keeping_recall(self):
        scores = torch.arange(200, dtype=torch.float32).reshape(2, 100)
        active = torch.zeros(2, 100, dtype=torch.bool)
        active[0] = True                                  # positives score 0 … 99
        t = tp.choose_threshold(scores, active, 0.95)
        self.assertTrue(4 < t < 5, t)                     # 5 … 99 are 95 of the 100
        self.assertLess(tp.choose_threshold(scores, active, 1.0), 0)
        self.assertEqual(tp.measure(scores, active, t),
                         {"recall": 0.95, "precision": 95 / 195, "predictedActiveFraction": 195 / 200})

    def test_install_adds_predictors_bin_and_keeps_the_rest(self):
        with tempfile.TemporaryDirectory() as tmp:
            model_dir = Path(tmp)
            (model_dir / "ffn.bin").write_bytes(b"weights")
            (model_dir / "MODEL_CARD.md").write_text("not listed\n")
            manifest = {"format": "flashcode-model", "formatVersion": 1, "id": "t",
                        "sparsity": {"perLayer": [0.5]}, "files": {"ffn.bin": file_entry(model_dir / "ffn.bin")}}
            (model_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
            block = {"file": "predictors.bin", "perLayer": [], "measuredOn": "test"}
            for _ in range(2):  # a second run replaces the first's entry
                tp.install(model_dir, b"FCPR-bytes", block)
            written = verify_manifest_files(model_dir)
            self.assertEqual(list(written), ["format", "formatVersion", "id", "sparsity", "predictors", "files"])
            self.assertEqual(sorted(written["files"]), ["ffn.bin", "predictors.bin"])
            self.assertEqual(written["files"]["ffn.bin"], manifest["files"]["ffn.bin"])
            self.assertEqual(written["predictors"], block)
            self.assertEqual(sorted(p.name for p in model_dir.iterdir()),
                             ["MODEL_CARD.md", "ffn.bin", "manifest.json", "predictors.bin"])


if __name__ == "__main__":
    unittest.main()
