"""export_model.py on a tiny random CodeLm: the written directory computes what torch computes, and a
checkpoint that does not match the config is refused."""
from __future__ import annotations

import contextlib
import io
import json
import math
import tempfile
import unittest
from pathlib import Path

import numpy as np

try:
    import torch
except ImportError:  # torch is an optional apt package (python3-torch); CI installs it
    torch = None

from fim import EOT, FILE_SEP, MID, PRE, SUF
from flashcode_format import DTYPE_F16, DTYPE_F32, parse_ffn_header, verify_manifest_files
from tests.test_tokenizer import ROUND_TRIP, TRAIN_TEXTS, VOCAB, train_tiny

if torch is not None:
    import export_model
    from export_v1 import as_stored
    import train
    from checkpoint import CheckpointMismatchError, identity
    from lm import CodeLm, ModelConfig
    from reference import ReferenceModel

PROMPT = "def add(a, b):\n    return "
STEPS = 8
LANGUAGES = ["python", "javascript", "typescript", "python", "python", "javascript", "python", "python"]
HELDOUT_DOCS = TRAIN_TEXTS + ROUND_TRIP


def tiny_config(**model) -> dict:
    m = {"vocab": VOCAB, "d_model": 32, "layers": 2, "heads": 2, "kv_heads": 1, "head_dim": 16, "ffn_size": 64,
         "ffn_activation": "relu", "ffn_gated": True, "rope_theta": 10000.0, "norm_eps": 1e-5,
         "context_tokens": 64, "tied_embeddings": True}
    m.update(model)
    return {
        "run": "export-test", "modelId": "flashcode-export-test", "displayName": "Export test (random weights)",
        "tokenizer": {"vocab": VOCAB},
        "data": {"seed": 1, "chunkChars": 200, "fim": 0.7, "spm": 0.5, "restOfLine": 0.4, "wholeLines": 0.3},
        "model": m,
        "train": {"seed": 1, "threads": 1, "batchRows": 2, "steps": 10, "lr": 0.001, "minLrRatio": 0.1,
                  "warmupSteps": 1, "weightDecay": 0.1, "gradClip": 1.0, "sparsityL1": 0.0,
                  "sparsityWarmupSteps": 1, "evalEvery": 10, "evalRows": 2, "checkpointEvery": 10},
    }


def random_model(config: dict, seed: int = 0) -> "CodeLm":
    """Weights large enough that every part of the network matters to the logits (training's init
    leaves them near-uniform)."""
    torch.manual_seed(seed)
    model = CodeLm(ModelConfig(**config["model"]))
    d, ffn = model.c.d_model, model.c.ffn_size
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.1 * torch.randn_like(p))
            elif name == "embed.weight":
                p.normal_(0, 1.0)
            elif name.endswith("down.weight"):
                p.normal_(0, 1 / math.sqrt(ffn))
            elif name == "head.weight":
                p.normal_(0, 0.4)
            else:
                p.normal_(0, 2 / math.sqrt(d))
    return model


def make_run(root: Path, config: dict, model: "CodeLm", step: int = 7) -> tuple[Path, Path]:
    """A run directory like train.py leaves one (tokenizer.json, heldout.u16, ckpt.pt), and the
    heldout.jsonl its heldout.u16 was made from."""
    run = root / "run"
    run.mkdir()
    tok_json, tok = train_tiny()
    (run / "tokenizer.json").write_text(tok_json, encoding="utf-8")
    stream = []
    for text in HELDOUT_DOCS:
        stream += tok.encode_ordinary(text) + [tok.special[EOT]]
    np.asarray(stream, dtype="<u2").tofile(run / "heldout.u16")
    corpus = root / "heldout.jsonl"
    corpus.write_text("".join(json.dumps({"language": lang, "text": text}) + "\n"
                              for lang, text in zip(LANGUAGES, HELDOUT_DOCS)), encoding="utf-8")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    train.save_checkpoint(run / "ckpt.pt", model, opt, step, identity(config, run), config)
    return run, corpus


def quiet_export(*args, **kwargs) -> dict:
    with contextlib.redirect_stderr(io.StringIO()):
        return export_model.export(*args, **kwargs)


def torch_logits(model, ids: list[int], bias: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.tensor([ids]))[0][0].numpy() + bias


@unittest.skipIf(torch is None, "torch is not installed (apt-get install python3-torch)")
class ExportTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.root = Path(self._tmp.name)

    def tearDown(self):
        self._tmp.cleanup()

    def export_and_compare(self, config: dict, ffn_dtype: int) -> tuple[dict, Path]:
        model = random_model(config)
        run, corpus = make_run(self.root, config, model)
        out = self.root / "models" / config["modelId"]
        report = quiet_export(config, run, out, ffn_dtype=ffn_dtype, eval_rows=0, corpus_heldout=corpus)
        manifest = verify_manifest_files(out)

        ref = ReferenceModel(out)
        tok = ref.tokenizer
        bias = ref.head["logit_bias"]
        expected_bias = np.zeros(VOCAB, dtype=np.float32)
        for name in (PRE, SUF, MID):
            expected_bias[tok.special[name]] = -30
        np.testing.assert_array_equal(bias, expected_bias)
        self.assertEqual(bias[tok.special[EOT]], 0)
        self.assertEqual(bias[tok.special[FILE_SEP]], 0)

        stored = as_stored(model, ffn_dtype)
        self.assertEqual(ffn_dtype == DTYPE_F32, all(torch.equal(a, b) for a, b in
                                                     zip(model.state_dict().values(), stored.state_dict().values())))
        for prompt in (tok.encode(PROMPT), ref.fim_prompt("x = [1, 2", "]\nprint(x)\n")):
            cache = ref.empty_cache()
            prefill = ref.forward(prompt, cache)                       # every prompt position
            run_ = ref.greedy(prompt, STEPS)
            expected = torch_logits(stored, prompt + run_.ids, bias)
            np.testing.assert_allclose(prefill, expected[:len(prompt)], atol=1e-4, rtol=0)
            np.testing.assert_allclose(run_.prefill_logits, expected[len(prompt) - 1], atol=1e-4, rtol=0)
            for i, logits in enumerate(run_.step_logits):
                np.testing.assert_allclose(logits, expected[len(prompt) + i], atol=1e-4, rtol=0)
            torch_ids = [int(i) for i in np.argmax(expected[len(prompt) - 1:len(prompt) - 1 + STEPS], axis=-1)]
            self.assertEqual(run_.ids, torch_ids)
            self.assertGreater(len(set(run_.ids)), 1)  # not a degenerate model
        self.assertLessEqual(report["crossCheck"]["maxAbsLogitDiff"], 1e-3)
        self.assertTrue(report["crossCheck"]["greedyIdsAgree"])
        self.assertEqual(parse_ffn_header((out / "ffn.bin").read_bytes()).dtype, ffn_dtype)
        return manifest, run

    def test_export_f32_matches_torch(self):
        config = tiny_config()
        manifest, run = self.export_and_compare(config, DTYPE_F32)
        a = manifest["architecture"]
        self.assertEqual(manifest["id"], "flashcode-export-test")
        self.assertEqual(manifest["displayName"], config["displayName"])
        self.assertEqual((a["layers"], a["dModel"], a["heads"], a["kvHeads"], a["headDim"], a["ffnSize"], a["vocabSize"]),
                         (2, 32, 2, 1, 16, 64, VOCAB))
        self.assertTrue(a["tiedEmbeddings"])
        self.assertEqual(manifest["contextTokens"], 64)
        self.assertEqual(manifest["stopTokens"], [EOT, FILE_SEP])
        self.assertIn("own copy", manifest["notes"])
        self.assertIn("step 7", manifest["notes"])
        self.assertEqual(set(manifest["files"]), {"embed.onnx", "attn.0.onnx", "attn.1.onnx", "ffn.onnx", "head.onnx",
                                                  "ffn.bin", "tokenizer.json"})
        self.assertEqual((run / "tokenizer.json").read_bytes(),
                         (self.root / "models" / "flashcode-export-test" / "tokenizer.json").read_bytes())
        s = manifest["sparsity"]
        self.assertEqual(len(s["perLayer"]), 2)
        self.assertTrue(all(0 < x < 1 for x in s["perLayer"]))
        self.assertIn("held-out", s["measuredOn"])

        # Tied: head.onnx's matrix is the embedding, transposed.
        ref = ReferenceModel(self.root / "models" / "flashcode-export-test")
        np.testing.assert_array_equal(ref.head["lm_head_t"], ref.embed_weight.T)

        report = json.loads((run / "export-report.json").read_text(encoding="utf-8"))
        self.assertEqual(report["checkpoint"]["step"], 7)
        self.assertEqual(report["checkpoint"]["tokensTrained"], 7 * 2 * 64)
        p = report["parameters"]
        self.assertEqual(p["total"], p["embedding"] + p["nonEmbedding"])
        self.assertEqual(p["ffn"], 2 * 3 * 32 * 64)
        h = report["heldout"]
        self.assertEqual(h["rows"], h["rowsInStream"])
        self.assertEqual(h["tokens"], h["rows"] * 64)
        self.assertAlmostEqual(h["perplexity"], math.exp(h["loss"]), delta=1e-2 * h["perplexity"])
        self.assertGreater(h["bitsPerByte"], 0)
        self.assertEqual(set(h["perLanguage"]) <= set(LANGUAGES), True)
        self.assertEqual(sum(x["tokens"] for x in h["perLanguage"].values()), h["tokens"])
        # the same loss as train.py's held-out loss over the same rows (fewer than one batch of 8)
        self.assertLessEqual(h["rows"], 8)
        model = as_stored(random_model(config), DTYPE_F32)
        heldout = np.fromfile(run / "heldout.u16", dtype="<u2")
        self.assertAlmostEqual(h["loss"], train.heldout_loss(model, heldout, 64, h["rows"]), places=3)
        macs = report["decodeMacsPerToken"]
        self.assertEqual(macs["head"], 32 * VOCAB)
        self.assertEqual(macs["weightMatmuls"], 2 * (32 * 32 + 2 * 32 * 16 + 32 * 32 + 3 * 32 * 64) + 32 * VOCAB)
        self.assertEqual(report["totalBytes"], sum(report["files"].values()))

    def test_export_f16_matches_torch_with_rounded_ffn(self):
        manifest, _ = self.export_and_compare(tiny_config(), DTYPE_F16)
        self.assertIn("float16", manifest["notes"])

    def test_untied_head_and_squared_relu(self):
        # 4 query heads on 2 KV heads: query head h must use KV head h // 2 in both implementations
        manifest, _ = self.export_and_compare(tiny_config(tied_embeddings=False, ffn_activation="squared_relu",
                                                          heads=4, kv_heads=2, head_dim=8), DTYPE_F32)
        self.assertFalse(manifest["architecture"]["tiedEmbeddings"])
        self.assertNotIn("own copy", manifest["notes"])

    def test_reexport_replaces_model_files_and_keeps_others(self):
        config = tiny_config()
        run, corpus = make_run(self.root, config, random_model(config))
        out = self.root / "models" / "m"
        quiet_export(config, run, out, ffn_dtype=DTYPE_F32, eval_rows=2, corpus_heldout=corpus)
        (out / "loss.png").write_bytes(b"png")
        (out / "attn.7.onnx").write_bytes(b"stale")   # as if listed by an older, deeper export
        manifest = json.loads((out / "manifest.json").read_text())
        manifest["files"]["attn.7.onnx"] = {"bytes": 5, "sha256": "0"}
        (out / "manifest.json").write_text(json.dumps(manifest))
        quiet_export(config, run, out, ffn_dtype=DTYPE_F16, eval_rows=2, corpus_heldout=None)
        self.assertEqual((out / "loss.png").read_bytes(), b"png")
        self.assertFalse((out / "attn.7.onnx").exists())
        self.assertEqual(verify_manifest_files(out)["files"].keys(),
                         {p.name for p in out.iterdir()} - {"manifest.json", "loss.png"})
        self.assertFalse((out.parent / ".m.export-tmp").exists())
        report = json.loads((run / "export-report.json").read_text())
        self.assertNotIn("perLanguage", report["heldout"])

    def test_checkpoint_of_another_model_is_refused(self):
        trained = tiny_config()
        run, corpus = make_run(self.root, trained, random_model(trained))
        other = tiny_config(d_model=48, head_dim=24)
        out = self.root / "models" / "refused"
        with self.assertRaises(CheckpointMismatchError) as caught:
            quiet_export(other, run, out, corpus_heldout=corpus)
        self.assertIn("model.d_model: checkpoint 32 ≠ config 48", str(caught.exception))
        self.assertIn("model.head_dim", str(caught.exception))
        self.assertFalse(out.exists())

        # The command line says so and exits 2.
        config_path = self.root / "other.json"
        config_path.write_text(json.dumps(other))
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            code = export_model.main(["--config", str(config_path), "--run-dir", str(run), "--out", str(out)])
        self.assertEqual(code, 2)
        self.assertIn("refused", stderr.getvalue())
        self.assertIn("model.d_model", stderr.getvalue())
        self.assertFalse(out.exists())

    def test_another_tokenizer_is_refused(self):
        config = tiny_config()
        run, corpus = make_run(self.root, config, random_model(config))
        with open(run / "tokenizer.json", "a", encoding="utf-8") as f:
            f.write("\n")
        with self.assertRaisesRegex(CheckpointMismatchError, "tokenizerSha256"):
            quiet_export(config, run, self.root / "out", corpus_heldout=corpus)

    def test_command_line_prints_the_report(self):
        config = tiny_config()
        run, corpus = make_run(self.root, config, random_model(config))
        config_path = self.root / "config.json"
        config_path.write_text(json.dumps(config))
        stdout = io.StringIO()
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(stdout):
            code = export_model.main(["--config", str(config_path), "--run-dir", str(run), "--out",
                                      str(self.root / "cli-out"), "--ffn-dtype", "f32", "--corpus-heldout", str(corpus)])
        self.assertEqual(code, 0)
        printed = json.loads(stdout.getvalue())
        self.assertEqual(printed, json.loads((run / "export-report.json").read_text(encoding="utf-8")))
        self.assertEqual(printed["ffnDtype"], "float32")


if __name__ == "__main__":
    unittest.main()
