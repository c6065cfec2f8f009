"""fim.py: document chunks and fill-in-the-middle examples (PSM, SPM, plain)."""
from __future__ import annotations

import random
import unittest

from fim import EOT, MID, PRE, SUF, FimRates, chunk_document, make_example, psm_prompt

CODE = '''import os


def read_lines(path):
    """Lines of a file, without their ends."""
    with open(path) as f:
        return [line.rstrip() for line in f]


class Config:
    def __init__(self, values):
        self.values = dict(values)

    def get(self, key, default=None):
        return self.values.get(key, default)
'''

PSM_ONLY = FimRates(fim=1.0, spm=0.0)
SPM_ONLY = FimRates(fim=1.0, spm=1.0)
PLAIN_ONLY = FimRates(fim=0.0)


def texts(pieces) -> list[str]:
    return [text for text, special in pieces if not special]


def structure(pieces) -> list:
    """Special tokens by name, ordinary text as None."""
    return [text if special else None for text, special in pieces]


class ChunkDocumentTest(unittest.TestCase):
    def test_chunks_are_within_the_limit_and_cut_at_line_ends(self):
        self.assertEqual(max(len(line) for line in CODE.splitlines(keepends=True)), 47)
        for limit in (48, 80, 200):
            with self.subTest(limit=limit):
                chunks = chunk_document(CODE, limit)
                self.assertGreater(len(chunks), 1)
                self.assertTrue(all(0 < len(c) <= limit for c in chunks))
                self.assertTrue(all(c.endswith("\n") for c in chunks))  # no line of CODE is longer than the limit
                # Nothing is lost but chunks that are only whitespace (here: blank lines between chunks).
                self.assertEqual("".join(chunks).replace("\n", ""), CODE.replace("\n", ""))

    def test_whole_document_when_it_fits(self):
        self.assertEqual(chunk_document(CODE, len(CODE)), [CODE])
        self.assertEqual(chunk_document("x = 1", 100), ["x = 1"])  # no final newline: kept as it is

    def test_line_ends_are_kept(self):
        text = "a = 1\r\nb = 2\r\nc = 3\n"
        chunks = chunk_document(text, 8)
        self.assertEqual(chunks, ["a = 1\r\n", "b = 2\r\n", "c = 3\n"])
        self.assertEqual("".join(chunk_document(text, 16)), text)

    def test_a_long_line_is_cut_hard(self):
        long_line = "x = [" + ", ".join(str(i) for i in range(60)) + "]\n"
        text = "a = 1\n" + long_line + "b = 2\n"
        chunks = chunk_document(text, 50)
        self.assertTrue(all(len(c) <= 50 for c in chunks))
        self.assertEqual("".join(chunks), text)
        self.assertEqual(chunks[0], "a = 1\n")  # the pending chunk is flushed before the long line
        self.assertEqual(chunks[1], long_line[:50])

    def test_whitespace_only_chunks_are_dropped(self):
        self.assertEqual(chunk_document("\n\n   \n", 2), [])
        self.assertEqual(chunk_document("a\n" + "\n" * 10 + "b\n", 4), ["a\n\n\n", "b\n"])


class MakeExampleTest(unittest.TestCase):
    def test_plain_example(self):
        pieces = make_example(CODE, random.Random(1), PLAIN_ONLY)
        self.assertEqual(pieces, [(CODE, False), (EOT, True)])

    def test_psm_structure_and_text(self):
        for seed in range(50):
            with self.subTest(seed=seed):
                pieces = make_example(CODE, random.Random(seed), PSM_ONLY)
                self.assertEqual(structure(pieces), [PRE, None, SUF, None, MID, None, EOT])
                prefix, suffix, middle = texts(pieces)
                self.assertEqual(prefix + middle + suffix, CODE)
                self.assertEqual(pieces[:5], psm_prompt(prefix, suffix))  # the prompt the engine builds

    def test_spm_structure_and_text(self):
        for seed in range(50):
            with self.subTest(seed=seed):
                pieces = make_example(CODE, random.Random(seed), SPM_ONLY)
                self.assertEqual(structure(pieces), [PRE, SUF, None, MID, None, None, EOT])
                suffix, prefix, middle = texts(pieces)
                self.assertEqual(prefix + middle + suffix, CODE)

    def test_every_kind_of_middle_reassembles(self):
        rates = FimRates(fim=0.7, spm=0.5, rest_of_line=0.3, whole_lines=0.3)
        kinds = set()
        for seed in range(300):
            pieces = make_example(CODE, random.Random(seed), rates)
            self.assertEqual(pieces[-1], (EOT, True))
            kind = tuple(structure(pieces))
            kinds.add(kind)
            parts = texts(pieces)
            if pieces[0] == (PRE, True) and pieces[1] == (SUF, True):  # SPM
                suffix, prefix, middle = parts
            elif pieces[0] == (PRE, True):                             # PSM
                prefix, suffix, middle = parts
            else:
                prefix, middle, suffix = parts[0], "", ""
            self.assertEqual(prefix + middle + suffix, CODE)
        self.assertEqual(len(kinds), 3)  # plain, PSM and SPM all occur

    def test_rest_of_line_middle_ends_at_a_line_end(self):
        rates = FimRates(fim=1.0, spm=0.0, rest_of_line=1.0, whole_lines=0.0)
        for seed in range(100):
            with self.subTest(seed=seed):
                prefix, suffix, middle = texts(make_example(CODE, random.Random(seed), rates))
                self.assertTrue(middle.strip())
                self.assertNotIn("\n", middle)
                self.assertTrue(suffix == "" or suffix.startswith("\n"), repr(suffix[:10]))
                if not prefix.rsplit("\n", 1)[-1].strip():  # at the line's start: from its indentation on
                    self.assertFalse(middle[0].isspace())

    def test_whole_lines_middle_starts_at_the_indentation_and_ends_at_a_line_end(self):
        rates = FimRates(fim=1.0, spm=0.0, rest_of_line=0.0, whole_lines=1.0)
        for seed in range(100):
            with self.subTest(seed=seed):
                prefix, suffix, middle = texts(make_example(CODE, random.Random(seed), rates))
                self.assertTrue(middle.strip())
                self.assertEqual(prefix.rsplit("\n", 1)[-1].strip(), "")   # only indentation before it on its line
                self.assertFalse(middle[0].isspace())
                self.assertTrue(suffix == "" or suffix.startswith("\n"))
                self.assertLessEqual(len([line for line in middle.split("\n") if line.strip()]), 4)

    def test_deterministic_for_a_seed(self):
        rates = FimRates()
        first = [make_example(CODE, random.Random(seed), rates) for seed in range(20)]
        again = [make_example(CODE, random.Random(seed), rates) for seed in range(20)]
        self.assertEqual(first, again)
        rng_a, rng_b = random.Random(5), random.Random(5)
        self.assertEqual([make_example(CODE, rng_a, rates) for _ in range(20)],
                         [make_example(CODE, rng_b, rates) for _ in range(20)])
        self.assertGreater(len({str(e) for e in first}), 10)  # and the seed matters


if __name__ == "__main__":
    unittest.main()
