"""convert_v2.py: a v1 directory → a v2 directory whose unquantised tensors give v1's logits exactly
(layout: transposes, Q/K/V stacking, tied head), whose q8_32 tensors are within half a scale of v1's
weights, and whose manifest carries v1's fields."""
from __future__ import annotations

import tempfile
import unittest
from pathlib import Path

import numpy as np

from convert_v2 import convert, v2_tensors
from fixture_common import PROMPT_TEXT
from flashcode_format import Q8_BLOCK, read_ffn_bin, verify_manifest_files
from flashcode_format_v2 import read_weights_bin
from reference import ReferenceModel
from reference_v2 import ReferenceModelV2

REPO = Path(__file__).resolve().parents[3]
TINY = REPO / "test" / "fixtures" / "tiny-model"
CODE_V1 = REPO / "models" / "flashcode-code-v1"


class ConvertV2Test(unittest.TestCase):
    def check_layout(self, v1_dir: Path, out: Path, prompt_tokens: int) -> None:
        """v2's reference on the f32 tensors (before quantisation) gives v1's logits."""
        v1 = ReferenceModel(v1_dir)
        v2 = ReferenceModelV2(out)
        v2.w = v2_tensors(v1_dir, v1.manifest)
        v2.head_weight = v2.w["embed"] if v2.arch["tiedEmbeddings"] else v2.w["head"]
        v2.head_bias = v2.w.get("head_bias")
        v2.ffn = read_ffn_bin(v1_dir / "ffn.bin")[1]
        ids = v1.tokenizer.encode(PROMPT_TEXT)[:prompt_tokens]
        np.testing.assert_allclose(v2.forward(ids, v2.empty_cache()), v1.forward(ids, v1.empty_cache()), rtol=1e-4, atol=1e-4)

    def test_tiny_model(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "tiny-v2"
            m = convert(TINY, out)
            v1 = verify_manifest_files(TINY)
            self.assertEqual(verify_manifest_files(out), m)
            self.assertEqual((m["formatVersion"], m["quantization"], m["architecture"]["attentionBias"]), (2, "q8_32", False))
            for key in ("fim", "stopTokens", "sparsity", "predictors", "contextTokens"):
                self.assertEqual(m[key], v1[key], key)
            self.assertEqual(sorted(m["files"]), ["ffn.bin", "predictors.bin", "tokenizer.json", "weights.bin"])
            self.check_layout(TINY, out, prompt_tokens=12)

            # Every q8_32 tensor is within half a block scale of v1's weight, the scale max/127 rounded
            # to f16 (s16); where it rounded down, a clamped max|w| is off by 127·(max/127 − s16).
            source = v2_tensors(TINY, v1)
            stored = read_weights_bin(out / "weights.bin", m["architecture"])
            for name, values in source.items():
                bound = 0.0
                if values.ndim == 2:
                    s = (np.abs(values).reshape(values.shape[0], -1, Q8_BLOCK).max(axis=2) / np.float32(127)).astype(np.float32)
                    s16 = s.astype(np.float16).astype(np.float32)
                    bound = np.repeat(np.maximum(s16 / 2, 127 * np.abs(s - s16)), Q8_BLOCK, axis=1) * 1.0001
                self.assertTrue((np.abs(stored[name] - values) <= bound + 1e-12).all(), name)

            # The quantised model's logits stay near v1's (measured: 4.5% of the largest on this random model).
            v1m, v2m = ReferenceModel(TINY), ReferenceModelV2(out)
            ids = v1m.tokenizer.encode(PROMPT_TEXT)
            a, b = v1m.forward(ids, v1m.empty_cache())[-1], v2m.forward(ids, v2m.empty_cache())[-1]
            visible = a > -20
            self.assertLess(np.max(np.abs(a - b)[visible]), 0.1 * np.max(np.abs(a[visible])))

    def test_bundled_model_tied_head(self):
        if not (CODE_V1 / "manifest.json").exists():
            self.skipTest(f"{CODE_V1} is not in this checkout")
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "code-v2"
            m = convert(CODE_V1, out)
            self.assertTrue(m["architecture"]["tiedEmbeddings"])
            self.check_layout(CODE_V1, out, prompt_tokens=6)


if __name__ == "__main__":
    unittest.main()
