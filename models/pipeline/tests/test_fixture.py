"""The tiny fixture model: FORMAT.md conformance, determinism, tokenizer, reference invariants."""
from __future__ import annotations

import json
import tempfile
import unittest
from pathlib import Path

import numpy as np
import onnx

import corpus
import make_fixture
import make_reference_golden
from fixture_common import SUPPRESSED_LOGIT_BIAS
from flashcode_format import DTYPE_F32, decode_predictors_bin, parse_ffn_header, read_ffn_bin, verify_manifest_files
from graphs import Dims, ffn_graph
from reference import DEFAULT_MODEL_DIR as FIXTURE, REPO, ReferenceModel

GOLDEN = REPO / "test" / "golden"


def io_spec(values) -> dict:
    """name → (elem type, [dim value or dim_param])"""
    return {v.name: (v.type.tensor_type.elem_type,
                     [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]) for v in values}


class ManifestAndGraphsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.manifest = verify_manifest_files(FIXTURE)
        cls.arch = cls.manifest["architecture"]

    def test_manifest_fields(self):
        m, a = self.manifest, self.arch
        self.assertRegex(m["id"], r"^[a-z0-9.-]+$")
        self.assertEqual(a["family"], "llama")
        self.assertEqual(a["heads"] * a["headDim"], a["dModel"])
        self.assertEqual(a["heads"] % a["kvHeads"], 0)
        self.assertIn(a["ffnActivation"], ["relu", "squared_relu"])
        self.assertEqual(m["fim"]["order"], "psm")
        self.assertEqual(m["ffn"], {"file": "ffn.bin"})
        self.assertEqual(m["graphs"]["attention"], [f"attn.{l}.onnx" for l in range(a["layers"])])
        listed = set(m["files"])
        self.assertEqual(listed, {p.name for p in FIXTURE.iterdir()} - {"manifest.json", ".flashcode-verified.json"})
        self.assertTrue({m["graphs"]["embed"], m["graphs"]["ffn"], m["graphs"]["head"], "tokenizer.json",
                         "ffn.bin", *m["graphs"]["attention"]} <= listed)
        s = m["sparsity"]
        self.assertEqual(len(s["perLayer"]), a["layers"])
        self.assertTrue(all(0 <= x <= 1 for x in s["perLayer"] + [s["meanActivationSparsity"]]))

    def test_directory_is_small(self):
        self.assertLess(sum(f["bytes"] for f in self.manifest["files"].values()), 2 * 1024 * 1024)

    def test_graph_io_matches_format(self):
        a, F, I = self.arch, onnx.TensorProto.FLOAT, onnx.TensorProto.INT64
        d, hkv, hd, V = a["dModel"], a["kvHeads"], a["headDim"], a["vocabSize"]
        kv_past, kv_present = (F, [1, hkv, "P", hd]), (F, [1, hkv, "S", hd])
        expected = {
            "embed.onnx": ({"input_ids": (I, [1, "T"])}, {"hidden": (F, [1, "T", d])}),
            "ffn.onnx": ({"x": (F, ["T", d]), "w_gate": (F, ["K", d]), "w_up": (F, ["K", d]), "w_down": (F, ["K", d])},
                         {"y": (F, ["T", d])}),
            "head.onnx": ({"hidden": (F, [1, "T", d])}, {"logits": (F, [1, "T", V])}),
        }
        for l in range(a["layers"]):
            expected[f"attn.{l}.onnx"] = (
                {"hidden": (F, [1, "T", d]), "position_ids": (I, [1, "T"]), "past_key": kv_past, "past_value": kv_past},
                {"hidden_out": (F, [1, "T", d]), "ffn_input": (F, [1, "T", d]),
                 "present_key": kv_present, "present_value": kv_present})
        for name, (inputs, outputs) in expected.items():
            with self.subTest(name):
                model = onnx.load(str(FIXTURE / name))
                onnx.checker.check_model(model, full_check=True)
                self.assertEqual([(o.domain, o.version) for o in model.opset_import], [("", 17)])
                initializers = {t.name for t in model.graph.initializer}
                graph_inputs = [v for v in model.graph.input if v.name not in initializers]
                self.assertEqual(io_spec(graph_inputs), inputs)
                self.assertEqual([v.name for v in graph_inputs], list(inputs))
                self.assertEqual(io_spec(model.graph.output), outputs)
                self.assertEqual([v.name for v in model.graph.output], list(outputs))

    def test_attention_does_not_repeat_kv_per_group(self):
        ops = {n.op_type for n in onnx.load(str(FIXTURE / "attn.0.onnx")).graph.node}
        self.assertFalse(ops & {"Expand", "Tile"})

    def test_ffn_graph_variants_are_valid(self):
        for gated in (True, False):
            for act in ("relu", "squared_relu"):
                dims = Dims(1, 8, 2, 1, 4, 16, 32, 1e-5, 1e4, act, gated)
                names = [v.name for v in ffn_graph(dims).graph.input]
                self.assertEqual(names, (["x", "w_gate"] if gated else ["x"]) + ["w_up", "w_down"])

    def test_ffn_bin_matches_architecture(self):
        h = parse_ffn_header((FIXTURE / "ffn.bin").read_bytes())
        a = self.arch
        self.assertEqual((h.layers, h.d_model, h.ffn_size, h.gated), (a["layers"], a["dModel"], a["ffnSize"], a["ffnGated"]))

    def test_predictors_are_exact_by_construction(self):
        p, a = self.manifest["predictors"], self.arch
        self.assertEqual(p["file"], "predictors.bin")
        h, predictors = decode_predictors_bin((FIXTURE / p["file"]).read_bytes())
        self.assertEqual((h.layers, h.d_model, h.ffn_size, h.dtype), (a["layers"], a["dModel"], a["ffnSize"], DTYPE_F32))
        _, ffn = read_ffn_bin(FIXTURE / "ffn.bin")
        for l, (pred, layer) in enumerate(zip(predictors, ffn)):
            with self.subTest(layer=l):
                np.testing.assert_array_equal(pred.a, np.eye(a["dModel"], dtype=np.float32))
                np.testing.assert_array_equal(pred.b, layer.w_gate.T)
                np.testing.assert_array_equal(pred.bias, np.zeros(a["ffnSize"], dtype=np.float32))
                self.assertEqual(pred.threshold, 0.0)
                self.assertEqual({k: p["perLayer"][l][k] for k in ("rank", "threshold", "recall", "precision")},
                                 {"rank": a["dModel"], "threshold": 0.0, "recall": 1.0, "precision": 1.0})


class TokenizerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = ReferenceModel(FIXTURE)
        cls.doc = json.loads((FIXTURE / "tokenizer.json").read_text(encoding="utf-8"))

    def test_vocab_size_and_special_tokens(self):
        m, tok = self.model.manifest, self.model.tokenizer
        ids = {t["id"] for t in self.doc["added_tokens"]} | set(self.doc["model"]["vocab"].values())
        self.assertEqual(ids, set(range(m["architecture"]["vocabSize"])))
        for name in list(m["fim"].values())[1:] + m["stopTokens"]:
            self.assertIn(name, tok.special)
            self.assertEqual(tok.encode(name), [tok.special[name]])
        self.assertTrue(all(t["special"] and not t["normalized"] for t in self.doc["added_tokens"]))
        self.assertEqual(self.doc["pre_tokenizer"],
                         {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": True})

    def test_golden_cases(self):
        golden = json.loads((GOLDEN / "tiny-model-tokenizer.json").read_text(encoding="utf-8"))
        self.assertEqual(golden["specialTokens"], self.model.tokenizer.special)
        for case in golden["cases"]:
            with self.subTest(case["text"]):
                self.assertEqual(self.model.tokenizer.encode(case["text"]), case["ids"])
                self.assertEqual(self.model.tokenizer.decode(case["ids"]), case["text"])

    def test_every_merged_token_encodes_to_itself(self):
        tok = self.model.tokenizer
        for merge in self.doc["model"]["merges"]:
            a, b = merge.split(" ")
            self.assertEqual(tok.bpe(a + b), [a + b])


class ReferenceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = ReferenceModel(FIXTURE)
        cls.golden = json.loads((GOLDEN / "tiny-model-reference.json").read_text(encoding="utf-8"))

    def test_prefill_then_decode_equals_longer_prefill(self):
        ids = self.model.tokenizer.encode("def add(a, b):\n    return a + b\n")
        cache = self.model.empty_cache()
        self.model.forward(ids[:-1], cache)
        stepped = self.model.forward(ids[-1:], cache)[-1]
        full = self.model.forward(ids, self.model.empty_cache())[-1]
        np.testing.assert_allclose(stepped, full, atol=1e-5, rtol=0)

    def test_chunked_prefill_matches_whole_prefill(self):
        ids = self.model.tokenizer.encode("for i in range(10):\n    print(i * i)\n")
        cache = self.model.empty_cache()
        chunks = [self.model.forward(ids[i:i + 5], cache) for i in range(0, len(ids), 5)]
        # Different matmul shapes round differently (float32; logits of magnitude up to ~35).
        np.testing.assert_allclose(np.concatenate(chunks), self.model.forward(ids, self.model.empty_cache()),
                                   atol=5e-5, rtol=0)

    def test_golden_is_reproduced(self):
        g = self.golden
        tok = self.model.tokenizer
        self.assertEqual(tok.encode(g["promptText"]), g["promptIds"])
        run = self.model.greedy(g["promptIds"], len(g["greedyIds"]))
        self.assertEqual(run.ids, g["greedyIds"])
        np.testing.assert_allclose(run.prefill_logits, g["prefillLastLogits"], atol=1e-4, rtol=0)
        for i, step in enumerate(g["decode"]["steps"]):
            self.assertEqual((step["inputId"], step["nextId"], step["position"]),
                             (run.ids[i], run.ids[i + 1], len(g["promptIds"]) + i))
            if "logits" in step:
                np.testing.assert_allclose(run.step_logits[i], step["logits"], atol=1e-4, rtol=0)
        self.assertGreaterEqual(len(g["decode"]["steps"]), 16)
        self.assertEqual(len(g["greedyIds"]), 32)
        fim = g["fim"]
        self.assertEqual(self.model.fim_prompt(fim["prefix"], fim["suffix"]), fim["promptIds"])
        self.assertEqual(self.model.greedy(fim["promptIds"], len(fim["greedyIds"])).ids, fim["greedyIds"])
        self.assertEqual(tok.decode(g["greedyIds"]), g["greedyText"])

    def test_greedy_output_is_varied_printable_text(self):
        for text in (self.golden["greedyText"], self.golden["fim"]["greedyText"]):
            self.assertTrue(text.strip())
            self.assertTrue(all(c in "\n\t" or c.isprintable() for c in text), repr(text))
        self.assertGreater(len(set(self.golden["greedyIds"])), 16)

    def test_suppressed_tokens_get_the_logit_bias(self):
        bias = self.model.head["logit_bias"]
        for token_id in self.model.tokenizer.special.values():
            self.assertEqual(bias[token_id], SUPPRESSED_LOGIT_BIAS)
        self.assertEqual(bias[ord("a")], 0)
        self.assertEqual(bias[0x80], SUPPRESSED_LOGIT_BIAS)  # lone continuation byte

    def test_manifest_sparsity_is_what_the_reference_measures(self):
        self.assertEqual(make_fixture.measure_sparsity(FIXTURE), self.model.manifest["sparsity"])

    def test_manifest_predictors_are_what_the_reference_measures(self):
        measured = make_fixture.measure_predictors(FIXTURE)
        self.assertEqual(measured, self.model.manifest["predictors"])
        # Exact predictors predict exactly the neurons that are not zero.
        sparsity = self.model.manifest["sparsity"]["perLayer"]
        for entry, zeros in zip(measured["perLayer"], sparsity):
            self.assertAlmostEqual(entry["predictedActiveFraction"], 1 - zeros, places=4)


class DeterminismTest(unittest.TestCase):
    def test_regenerating_writes_identical_files(self):
        problems = corpus.check()
        if problems:
            self.skipTest("tokenizer corpus on this machine differs from the pinned one: " + "; ".join(problems))
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "tiny-model"
            make_fixture.write_fixture(out)
            for name in sorted(p.name for p in FIXTURE.iterdir() if p.name != ".flashcode-verified.json"):
                with self.subTest(name):
                    self.assertEqual((out / name).read_bytes(), (FIXTURE / name).read_bytes())
            regenerated = make_reference_golden.reference_golden(ReferenceModel(out))
        committed = json.loads((GOLDEN / "tiny-model-reference.json").read_text(encoding="utf-8"))
        for key in ("promptIds", "greedyIds", "greedyText", "fim"):
            self.assertEqual(regenerated[key], committed[key])


if __name__ == "__main__":
    unittest.main()
