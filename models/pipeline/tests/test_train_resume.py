"""train.py: a run stopped and resumed from its checkpoint ends with the weights of an uninterrupted one."""
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

if torch is not None:
    import train
    from checkpoint import CheckpointMismatchError


def tiny_config(steps: int) -> dict:
    return {
        "run": "resume-test", "modelId": "resume-test", "displayName": "resume test",
        "tokenizer": {"vocab": 64},
        "data": {"seed": 1, "chunkChars": 200, "fim": 0.5, "spm": 0.5, "restOfLine": 0.4, "wholeLines": 0.3},
        "model": {"vocab": 64, "d_model": 16, "layers": 2, "heads": 2, "kv_heads": 1, "head_dim": 8, "ffn_size": 32,
                  "ffn_activation": "relu", "ffn_gated": True, "rope_theta": 10000.0, "norm_eps": 1e-5,
                  "context_tokens": 16, "tied_embeddings": True},
        "train": {"seed": 3, "threads": 1, "batchRows": 4, "steps": steps, "lr": 0.01, "minLrRatio": 0.1,
                  "warmupSteps": 3, "weightDecay": 0.1, "gradClip": 1.0, "sparsityL1": 0.02,
                  "sparsityWarmupSteps": 5, "evalEvery": 10, "evalRows": 8, "checkpointEvery": 100},
    }


def make_run_dir(root: Path, name: str) -> Path:
    out = root / name
    out.mkdir()
    rng = np.random.default_rng(7)
    rng.integers(0, 64, 40 * 17).astype("<u2").tofile(out / "train.u16")
    rng.integers(0, 64, 10 * 17).astype("<u2").tofile(out / "heldout.u16")
    (out / "tokenizer.json").write_text('{"stand-in": "identity() only hashes this file"}\n')
    return out


def quiet_train(config: dict, out: Path, stop_after=None) -> int:
    with contextlib.redirect_stdout(io.StringIO()):
        return train.train(config, out, stop_after)


@unittest.skipIf(torch is None, "torch is not installed (apt-get install python3-torch)")
class TrainResumeTest(unittest.TestCase):
    STEPS, STOP = 23, 13  # the stop is not a multiple of the log interval: logged steps repeat on resume

    def test_resumed_run_equals_uninterrupted_run(self):
        with tempfile.TemporaryDirectory() as tmp:
            config = tiny_config(self.STEPS)
            whole = make_run_dir(Path(tmp), "whole")
            self.assertEqual(quiet_train(config, whole), self.STEPS)

            resumed = make_run_dir(Path(tmp), "resumed")
            self.assertEqual(quiet_train(config, resumed, stop_after=self.STOP), self.STOP)
            self.assertEqual(torch.load(resumed / "ckpt.pt")["step"], self.STOP)
            self.assertEqual(quiet_train(config, resumed), self.STEPS)

            a, b = torch.load(whole / "ckpt.pt"), torch.load(resumed / "ckpt.pt")
            self.assertEqual((a["step"], b["step"]), (self.STEPS, self.STEPS))
            self.assertEqual(a["identity"], b["identity"])
            self.assertEqual(a["model"].keys(), b["model"].keys())
            for name in a["model"]:
                with self.subTest(name):
                    torch.testing.assert_close(b["model"][name], a["model"][name], atol=1e-6, rtol=0)

            # The log of the resumed run has every step the uninterrupted one logged, with the same losses.
            last = lambda path: {e["step"]: e for e in map(json.loads, path.read_text().splitlines())}
            whole_log, resumed_log = last(whole / "loss.jsonl"), last(resumed / "loss.jsonl")
            self.assertEqual(sorted(whole_log), [10, 20, self.STEPS])
            self.assertEqual(sorted(resumed_log), sorted(whole_log))
            for step in whole_log:
                self.assertAlmostEqual(resumed_log[step]["loss"], whole_log[step]["loss"], places=4)
            self.assertIn("heldoutLoss", whole_log[self.STEPS])

    def test_checkpoint_of_another_model_is_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = make_run_dir(Path(tmp), "run")
            quiet_train(tiny_config(4), out, stop_after=2)
            other = tiny_config(4)
            other["model"]["ffn_size"] = 48
            with self.assertRaisesRegex(CheckpointMismatchError, "model"):
                quiet_train(other, out)


@unittest.skipIf(torch is None, "torch is not installed (apt-get install python3-torch)")
class LearningRateTest(unittest.TestCase):
    T = {"lr": 0.01, "minLrRatio": 0.1, "warmupSteps": 10, "steps": 100}

    def test_one_cycle_warms_up_then_decays_to_the_floor(self):
        lrs = [train.lr_at(s, self.T) for s in range(100)]
        self.assertAlmostEqual(lrs[0], 0.001)
        self.assertAlmostEqual(lrs[9], 0.01)
        self.assertAlmostEqual(max(lrs), 0.01)
        self.assertTrue(all(a >= b for a, b in zip(lrs[10:], lrs[11:])), "decreasing after the warm-up")
        self.assertAlmostEqual(train.lr_at(100, self.T), 0.001)

    def test_a_restart_leaves_the_steps_before_it_as_they_were(self):
        # A run trained to step 100 and continued with a restart there reads, for steps < 100, the
        # learning rates the one-cycle schedule gave it.
        t = dict(self.T, steps=200, restarts=[{"at": 100, "lrScale": 0.5}])
        for s in range(100):
            self.assertEqual(train.lr_at(s, t), train.lr_at(s, self.T))
        after = [train.lr_at(s, t) for s in range(100, 200)]
        self.assertGreater(after[0], 0.001)  # warms up from the floor, not from zero
        self.assertAlmostEqual(after[9], 0.005)
        self.assertAlmostEqual(max(after), 0.005)
        self.assertAlmostEqual(train.lr_at(200, t), 0.001)


if __name__ == "__main__":
    unittest.main()
