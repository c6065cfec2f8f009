"""The GPU run's code path, on the CPU: gpu_train.py --dry-run end to end, the sdpa attention against
the explicit one, the licence check of the GPU machine's Python distributions, and the two encoders."""
from __future__ import annotations

import email.message
import json
import lzma
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # torch is an optional apt package (python3-torch); CI installs it
    torch = None

import bpe
import gpu_data

PIPELINE = Path(__file__).resolve().parents[1]
REPO = PIPELINE.parents[1]
FIXTURE_TOKENIZER = REPO / "test" / "fixtures" / "tiny-model" / "tokenizer.json"


def docs_from(paths: list[Path], language: str, package: str) -> list[dict]:
    return [{"package": package, "path": str(p.relative_to(REPO)), "language": language, "text": p.read_text(encoding="utf-8")}
            for p in paths]


def write_xz(path: Path, docs: list[dict]) -> None:
    with lzma.open(path, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(d) + "\n" for d in docs)


def make_inputs(root: Path) -> Path:
    """The inputs gpu_pack.py writes, from this repository's own sources and the fixture's tokenizer."""
    inputs = root / "inputs"
    inputs.mkdir()
    (inputs / "tokenizer.json").write_bytes(FIXTURE_TOKENIZER.read_bytes())
    ts = sorted((REPO / "src" / "engine").glob("*.ts"))[:12]
    js = sorted((REPO / "scripts").glob("*.mjs"))[:8]
    py = sorted(PIPELINE.glob("*.py"))[:12]
    write_xz(inputs / "corpus.jsonl.xz", docs_from(ts[2:], "typescript", "repo:src") + docs_from(js[2:], "javascript", "repo:scripts")
             + docs_from(py[2:], "python", "repo:pipeline"))
    write_xz(inputs / "heldout.jsonl.xz", docs_from(ts[:2], "typescript", "repo:src") + docs_from(js[:2], "javascript", "repo:scripts")
             + docs_from(py[:2], "python", "repo:pipeline"))
    tasks = (REPO / "models" / "eval" / "heldout-fim.jsonl").read_text(encoding="utf-8").splitlines()
    (inputs / "fim-tasks.jsonl").write_text("\n".join(tasks[:3] + tasks[100:103]) + "\n", encoding="utf-8")
    return inputs


@unittest.skipIf(torch is None, "torch is not installed (apt-get install python3-torch)")
class DryRunTest(unittest.TestCase):
    def test_dry_run_trains_evaluates_and_writes_weights_that_load(self):
        from lm import CodeLm, ModelConfig
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            inputs = make_inputs(root)
            config = json.loads((PIPELINE / "configs" / "code-v2.json").read_text())
            config["dryRun"]["model"]["vocab"] = 512  # the fixture's tokenizer
            config_path = root / "config.json"
            config_path.write_text(json.dumps(config))
            out = root / "out"
            run = subprocess.run([sys.executable, str(PIPELINE / "gpu_train.py"), "--dry-run", "--config", str(config_path),
                                  "--inputs", str(inputs), "--out", str(out), "--workers", "2"],
                                 capture_output=True, text=True, timeout=600)
            self.assertEqual(run.returncode, 0, run.stdout[-3000:] + run.stderr[-3000:])
            result = json.loads((out / "result.json").read_text())
            self.assertGreater(result["training"]["steps"], 0)
            self.assertGreater(result["data"]["stats"]["carriedFiles"], 0)
            self.assertGreater(result["data"]["stats"]["machineFiles"], 0, "the interpreter's own Python was not used")
            self.assertEqual(sorted(result["heldout"]["loss"]), ["javascript", "python", "typescript"])
            self.assertEqual(len(result["heldout"]["sparsityPerLayer"]), 2)
            self.assertGreater(result["fimCheck"]["summary"]["tasks"], 0)
            progress = [json.loads(l) for l in (out / "progress.jsonl").read_text().splitlines()]
            self.assertLess(progress[-1]["loss"], 6.0, "the loss did not fall below ln(512) = 6.24 while training")
            mc = ModelConfig(**result["config"]["model"])
            model = CodeLm(mc)
            state = {}
            for name in result["weights"]:
                self.assertLessEqual((out / name).stat().st_size, 16 << 20)
                state.update({k: v.float() for k, v in torch.load(out / name).items()})
            model.load_state_dict(state)  # strict: every tensor came back


@unittest.skipIf(torch is None, "torch is not installed (apt-get install python3-torch)")
class SdpaTest(unittest.TestCase):
    def test_sdpa_attention_gives_the_explicit_logits(self):
        if not hasattr(F, "scaled_dot_product_attention"):
            self.skipTest(f"torch {torch.__version__} has no scaled_dot_product_attention (torch >= 2.0; "
                          "the GPU run checks it there: result.json attentionCheck)")
        from lm import CodeLm, ModelConfig
        mc = ModelConfig(vocab=97, d_model=48, layers=2, heads=6, kv_heads=2, head_dim=8, ffn_size=64, context_tokens=40)
        torch.manual_seed(5)
        a = CodeLm(mc, attention="explicit")
        b = CodeLm(mc, attention="sdpa")
        b.load_state_dict(a.state_dict())
        ids = torch.randint(0, 97, (3, 40))
        with torch.no_grad():
            la, lb = a(ids)[0], b(ids)[0]
        self.assertLess(float((la - lb).abs().max()), 1e-5)

    def test_unknown_attention_is_refused(self):
        from lm import CodeLm, ModelConfig
        mc = ModelConfig(vocab=16, d_model=8, layers=1, heads=2, kv_heads=1, head_dim=4, ffn_size=8)
        with self.assertRaises(ValueError):
            CodeLm(mc, attention="flash")


def meta(**fields) -> email.message.Message:
    m = email.message.Message()
    for key, value in fields.items():
        for v in value if isinstance(value, list) else [value]:
            m[key.replace("_", "-")] = v
    return m


class LicenceTest(unittest.TestCase):
    def test_permitted_and_refused_licences(self):
        ok = lambda **f: gpu_data.licence_of(meta(**f))[0] is not None
        self.assertTrue(ok(License_Expression="BSD-3-Clause"))
        self.assertTrue(ok(License_Expression="Apache-2.0 OR BSD-2-Clause"))
        self.assertTrue(ok(Classifier=["License :: OSI Approved :: MIT License"]))
        self.assertTrue(ok(License="Apache 2.0"))
        self.assertTrue(ok(License="PSF"))
        self.assertFalse(ok(License_Expression="MIT AND GPL-3.0-or-later"))
        self.assertFalse(ok(License_Expression="LGPL-2.1-only"))
        self.assertFalse(ok(License_Expression="BSD-3-Clause AND Zlib"))  # Zlib is not on the allow-list's list
        self.assertFalse(ok(Classifier=["License :: OSI Approved :: MIT License", "License :: OSI Approved :: GNU General Public License (GPL)"]))
        self.assertFalse(ok(License="Mozilla Public License 2.0 (MPL 2.0)"))
        self.assertFalse(ok())


class EncoderTest(unittest.TestCase):
    def test_hugging_face_and_reference_encoders_give_the_same_ids(self):
        """Also on text that spells special tokens (bpe.py does): they stay text, as in training."""
        try:
            import tokenizers  # noqa: F401
        except ImportError:
            self.skipTest("the PyPI package tokenizers is not installed here (it is on the GPU machine; "
                          ".cache/venv has it, see the pipeline README)")
        doc = json.loads(FIXTURE_TOKENIZER.read_text(encoding="utf-8"))
        ref = bpe.ByteLevelBpe.from_tokenizer_json(doc)
        hf = gpu_data.hf_ordinary(doc)
        for path in sorted(PIPELINE.glob("*.py"))[:6] + sorted((REPO / "src" / "engine").glob("*.ts"))[:4]:
            text = path.read_text(encoding="utf-8")
            self.assertEqual(hf.encode(text, add_special_tokens=False).ids, ref.encode_ordinary(text), str(path))


if __name__ == "__main__":
    unittest.main()
