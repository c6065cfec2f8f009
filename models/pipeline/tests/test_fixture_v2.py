"""The tiny format-v2 fixtures and the v2 NumPy reference: determinism, FORMAT.md §M/§W conformance,
KV-cache invariants, an independent per-head loop of the forward pass, and the committed golden."""
from __future__ import annotations

import json
import math
import tempfile
import unittest
from pathlib import Path

import numpy as np

import make_fixture_v2
import make_v2_reference_golden
from fixture_common import FIXTURES as FIXTURE_SPECS, PROMPT_TEXT
from flashcode_format import parse_ffn_header, verify_manifest_files
from flashcode_format_v2 import parse_weights_bin
from reference_v2 import ReferenceModelV2, rope_inv_freq

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "test" / "fixtures"
SPECS = {s.name: s for s in FIXTURE_SPECS}


def naive_forward(m: ReferenceModelV2, ids: list[int]) -> np.ndarray:
    """Last-position logits from a plain per-token, per-head loop in f64, written from FORMAT.md §W
    without the reference's vectorised code: a check on its GQA mapping, RoPE, biases and FFN."""
    a, w = m.arch, {k: v.astype(np.float64) for k, v in m.w.items()}
    H, Hkv, hd, G = a["heads"], a["kvHeads"], a["headDim"], a["heads"] // a["kvHeads"]
    theta = rope_inv_freq(a["ropeTheta"], hd).astype(np.float64)
    norm = lambda x, g: x / math.sqrt(float(np.mean(x * x)) + a["normEps"]) * g

    def rope(v: np.ndarray, p: int) -> np.ndarray:
        half = hd // 2
        out = np.empty(hd)
        for i in range(half):
            c, s = math.cos(p * theta[i]), math.sin(p * theta[i])
            out[i] = v[i] * c - v[i + half] * s
            out[i + half] = v[i + half] * c + v[i] * s
        return out

    hs = [w["embed"][t].copy() for t in ids]
    for l in range(a["layers"]):
        keys, vals, new = [], [], []
        for p, h in enumerate(hs):
            qkv = w[f"layers.{l}.qkv"] @ norm(h, w[f"layers.{l}.attn_norm"])
            if a["attentionBias"]:
                qkv = qkv + w[f"layers.{l}.qkv_bias"]
            q = [rope(qkv[i * hd:(i + 1) * hd], p) for i in range(H)]
            keys.append([rope(qkv[(H + j) * hd:(H + j + 1) * hd], p) for j in range(Hkv)])
            vals.append([qkv[(H + Hkv + j) * hd:(H + Hkv + j + 1) * hd] for j in range(Hkv)])
            ctx = []
            for i in range(H):
                kv = i // G
                scores = np.array([q[i] @ keys[s][kv] / math.sqrt(hd) for s in range(p + 1)])
                probs = np.exp(scores - scores.max())
                ctx.append(sum(pr * vals[s][kv] for s, pr in enumerate(probs / probs.sum())))
            h = h + w[f"layers.{l}.out"] @ np.concatenate(ctx)
            x = norm(h, w[f"layers.{l}.ffn_norm"])
            f = m.ffn[l]
            up = f.w_up.astype(np.float64) @ x
            if a["ffnActivation"] == "silu":
                g = w[f"layers.{l}.ffn_gate"] @ x
                act = g / (1 + np.exp(-g)) * up
            else:
                act = np.maximum(f.w_gate.astype(np.float64) @ x, 0) * up
            new.append(h + f.w_down.astype(np.float64) @ act)
        hs = new
    head = w["embed"] if a["tiedEmbeddings"] else w["head"]
    return head @ norm(hs[-1], w["final_norm"]) + w.get("head_bias", 0)


def committed_files(d):
    """The fixture's files, without the engine's record of a verified load (gitignored)."""
    return [p for p in d.iterdir() if p.name != ".flashcode-verified.json"]


class FixtureV2Test(unittest.TestCase):
    def test_generator_is_deterministic(self):
        with tempfile.TemporaryDirectory() as tmp:
            for spec in FIXTURE_SPECS:
                make_fixture_v2.write_fixture(spec, Path(tmp) / spec.name)
                committed = FIXTURES / spec.name
                self.assertEqual(sorted(p.name for p in committed_files(committed)), sorted(p.name for p in (Path(tmp) / spec.name).iterdir()))
                for p in committed_files(committed):
                    self.assertEqual(p.read_bytes(), (Path(tmp) / spec.name / p.name).read_bytes(), f"{spec.name}/{p.name}")

    def test_directories_follow_the_spec(self):
        for name, spec in SPECS.items():
            with self.subTest(name):
                d = FIXTURES / name
                m = verify_manifest_files(d)
                a = m["architecture"]
                self.assertEqual((m["formatVersion"], m["quantization"], m["weights"], m["ffn"]),
                                 (2, "q8_32", {"file": "weights.bin"}, {"file": "ffn.bin"}))
                self.assertNotIn("graphs", m)
                self.assertEqual(("fim" in m, "chat" in m, "predictors" in m), (spec.fim, spec.chat, spec.predictors))
                self.assertLessEqual(sum(f["bytes"] for f in m["files"].values()), 300 * 1024)
                self.assertEqual(a["dModel"] % 32, 0)
                self.assertEqual(a["ffnSize"] % 32, 0)
                parse_weights_bin((d / "weights.bin").read_bytes(), a)
                h = parse_ffn_header((d / "ffn.bin").read_bytes())
                self.assertEqual((h.version, h.gated), (3, a["ffnActivation"] != "silu"))
                if spec.predictors:
                    self.assertTrue(all(p["recall"] == 1.0 for p in m["predictors"]["perLayer"]))


class ReferenceV2Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.models = {name: ReferenceModelV2(FIXTURES / name) for name in SPECS}
        cls.prompt = cls.models["tiny-llama-v2"].tokenizer.encode(PROMPT_TEXT)

    def test_prefill_in_one_equals_token_by_token(self):
        for name, m in self.models.items():
            with self.subTest(name):
                whole = m.forward(self.prompt, m.empty_cache())
                cache = m.empty_cache()
                rows = np.stack([m.forward([t], cache)[-1] for t in self.prompt])
                np.testing.assert_allclose(rows, whole, rtol=1e-4, atol=1e-4)

    def test_kv_cache_split_anywhere_gives_the_same_logits(self):
        for name, m in self.models.items():
            whole = m.forward(self.prompt, m.empty_cache())[-1]
            for k in (1, 7, len(self.prompt) - 1):
                with self.subTest(name, split=k):
                    cache = m.empty_cache()
                    m.forward(self.prompt[:k], cache)
                    self.assertEqual(cache.length, k)
                    np.testing.assert_allclose(m.forward(self.prompt[k:], cache)[-1], whole, rtol=1e-4, atol=1e-4)
                    self.assertEqual(cache.length, len(self.prompt))

    def test_matches_an_independent_per_head_loop(self):
        for name, m in self.models.items():
            with self.subTest(name):
                ids = self.prompt[:9]
                np.testing.assert_allclose(m.forward(ids, m.empty_cache())[-1], naive_forward(m, ids), rtol=1e-4, atol=2e-4)

    def test_greedy_output_is_printable_and_never_special(self):
        for name, m in self.models.items():
            with self.subTest(name):
                ids = m.greedy(self.prompt, 32).ids
                self.assertFalse(set(ids) & set(m.tokenizer.special.values()))
                m.tokenizer.decode(ids).encode("utf-8")  # every token is whole UTF-8 text

    def test_q8_activations_stay_close_to_f32(self):
        for name in SPECS:
            with self.subTest(name):
                f32 = self.models[name].forward(self.prompt, self.models[name].empty_cache())[-1]
                q8m = ReferenceModelV2(FIXTURES / name, activations="q8")
                q8 = q8m.forward(self.prompt, q8m.empty_cache())[-1]
                self.assertFalse(np.array_equal(q8, f32))
                visible = f32 > -20
                self.assertLess(np.max(np.abs(q8 - f32)[visible]), 0.05 * np.max(np.abs(f32[visible])))

    def test_committed_golden_is_what_the_reference_gives(self):
        committed = json.loads((REPO / "test" / "golden" / "tiny-v2-reference.json").read_text(encoding="utf-8"))
        for name in SPECS:
            with self.subTest(name):
                self.assertEqual(json.loads(json.dumps(make_v2_reference_golden.fixture_golden(name))), committed["fixtures"][name])


if __name__ == "__main__":
    unittest.main()
