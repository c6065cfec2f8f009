"""plot_loss.py: the last entry of a repeated (resumed) step wins; the PNG is written."""
from __future__ import annotations

import contextlib
import io
import json
import tempfile
import unittest
from pathlib import Path

try:
    import matplotlib  # noqa: F401
except ImportError:  # an optional apt package (python3-matplotlib); CI installs it
    matplotlib = None

if matplotlib is not None:
    import plot_loss


def entry(step: int, loss: float, heldout: float | None = None) -> str:
    e = {"step": step, "tokens": step * 4096, "loss": loss, "sparsity": [0.1 * step / 10, 0.2 * step / 10]}
    if heldout is not None:
        e["heldoutLoss"] = heldout
    return json.dumps(e)


@unittest.skipIf(matplotlib is None, "matplotlib is not installed (apt-get install python3-matplotlib)")
class PlotLossTest(unittest.TestCase):
    def test_resumed_steps_keep_the_last_entry_and_a_png_is_written(self):
        with tempfile.TemporaryDirectory() as tmp:
            run = Path(tmp) / "run"
            run.mkdir()
            lines = [entry(10, 5.0), entry(20, 4.0, heldout=4.2), entry(30, 3.9),
                     entry(20, 3.5, heldout=3.6), entry(30, 3.4), entry(40, 3.3, heldout=3.35),  # resumed from 10
                     '{"step": 50, "tok']                                                        # cut short
            (run / "loss.jsonl").write_text("\n".join(lines) + "\n")
            entries, bad = plot_loss.read_log(run / "loss.jsonl")
            self.assertEqual([e["step"] for e in entries], [10, 20, 30, 40])
            self.assertEqual([e["loss"] for e in entries], [5.0, 3.5, 3.4, 3.3])
            self.assertEqual(bad, 1)

            config = Path(tmp) / "config.json"
            config.write_text(json.dumps({"run": "r", "modelId": "m", "displayName": "Test model"}))
            out = Path(tmp) / "plots" / "loss.png"
            with contextlib.redirect_stdout(io.StringIO()) as stdout:
                code = plot_loss.main(["--config", str(config), "--run-dir", str(run), "--out", str(out)])
            self.assertEqual(code, 0)
            self.assertIn("4 steps, 1 unreadable", stdout.getvalue())
            self.assertEqual(out.read_bytes()[:8], b"\x89PNG\r\n\x1a\n")

    def test_missing_log_is_an_error(self):
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "config.json"
            config.write_text(json.dumps({"run": "r", "modelId": "m", "displayName": "Test model"}))
            with contextlib.redirect_stderr(io.StringIO()) as stderr:
                code = plot_loss.main(["--config", str(config), "--run-dir", tmp, "--out", str(Path(tmp) / "x.png")])
            self.assertEqual(code, 1)
            self.assertIn("does not exist", stderr.getvalue())


if __name__ == "__main__":
    unittest.main()
