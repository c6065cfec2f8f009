"""bpe.py on a tokenizer trained here: round trips on code with unicode, encode vs encode_ordinary."""
from __future__ import annotations

import json
import unittest

import bpe
from fim import EOT, FILE_SEP, MID, PRE, SPECIAL_TOKENS, SUF

TRAIN_TEXTS = [
    "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n",
    "for (let i = 0; i < items.length; i++) {\n  console.log(items[i]);\n}\n",
    "export function greet(name: string): string {\n  return `Hello, ${name}!`;\n}\n",
    "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n",
]
VOCAB = 300

ROUND_TRIP = [
    "def größe(länge):\n    return länge * 2  # ½ × 4 → 2\n",
    "const s = '日本語のテキスト';\n\tconsole.log(s, \"émoji 🎉🐍\");\r\n",
    "    \n\n  trailing spaces   \n",
    "x=1;y=2;z=x+y\n",
]


def train_tiny() -> tuple[str, bpe.ByteLevelBpe]:
    merges = bpe.train_bpe(TRAIN_TEXTS, VOCAB - 256 - len(SPECIAL_TOKENS))
    vocab, special = bpe.build_vocab(merges, SPECIAL_TOKENS)
    return bpe.tokenizer_json(vocab, merges, special), bpe.ByteLevelBpe(vocab, merges, special)


class TinyTokenizerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.doc_text, cls.tok = train_tiny()
        cls.loaded = bpe.ByteLevelBpe.from_tokenizer_json(json.loads(cls.doc_text))

    def test_vocab_and_special_ids(self):
        doc = json.loads(self.doc_text)
        self.assertEqual(len(doc["model"]["vocab"]), VOCAB)
        self.assertEqual(sorted(doc["model"]["vocab"].values()), list(range(VOCAB)))
        self.assertEqual(list(self.tok.special), SPECIAL_TOKENS)
        self.assertEqual(list(self.tok.special.values()), list(range(VOCAB - len(SPECIAL_TOKENS), VOCAB)))

    def test_training_is_deterministic_and_merges_code(self):
        self.assertEqual(train_tiny()[0], self.doc_text)
        ids = self.tok.encode_ordinary("    return a + b\n")
        self.assertLess(len(ids), len("    return a + b\n"))

    def test_round_trip_on_code_with_unicode(self):
        for tok in (self.tok, self.loaded):
            for text in ROUND_TRIP:
                with self.subTest(text=text):
                    ids = tok.encode_ordinary(text)
                    self.assertEqual(tok.decode(ids), text)
                    self.assertEqual(ids, tok.encode(text))  # no special-token text in it: the same ids
                    self.assertTrue(all(0 <= i < VOCAB - len(SPECIAL_TOKENS) for i in ids))

    def test_loaded_tokenizer_encodes_like_the_trained_one(self):
        for text in ROUND_TRIP + TRAIN_TEXTS:
            self.assertEqual(self.loaded.encode_ordinary(text), self.tok.encode_ordinary(text))

    def test_literal_special_token_text(self):
        text = 'print("<|endoftext|>")\n'
        ordinary = self.tok.encode_ordinary(text)
        special = self.tok.encode(text)
        eot = self.tok.special[EOT]
        self.assertNotIn(eot, ordinary)                # plain text: the corpus may contain it literally
        self.assertEqual(self.tok.decode(ordinary), text)
        self.assertIn(eot, special)                    # encode() splits special tokens out first
        self.assertEqual(special.count(eot), 1)
        self.assertEqual(self.tok.decode(special), text)
        for name in (PRE, SUF, MID, FILE_SEP, EOT):
            self.assertEqual(self.tok.encode(name), [self.tok.special[name]])
            self.assertNotIn(self.tok.special[name], self.tok.encode_ordinary(name))

    def test_memo_does_not_change_results(self):
        first = [self.tok.encode_ordinary(t) for t in ROUND_TRIP]
        again = [self.tok.encode_ordinary(t) for t in ROUND_TRIP]
        self.assertEqual(first, again)


if __name__ == "__main__":
    unittest.main()
