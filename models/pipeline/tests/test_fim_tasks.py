"""make_fim_tasks.py: the held-out FIM task set."""
from __future__ import annotations

import unittest

import make_fim_tasks
from make_fim_tasks import build_tasks, is_candidate

PY = '''import os


def read_lines(path):
    """Lines of a file, without their ends."""
    # a comment line is never a middle
    with open(path) as f:
        return [line.rstrip() for line in f]


class Config:
    def __init__(self, values):
        self.values = dict(values)

    def get(self, key, default=None):
        return self.values.get(key, default)
'''

TS = '''export function clamp(value: number, low: number, high: number): number {
  if (value < low) {
    return low;
  }
  return Math.min(value, high);
}

export const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
'''


def docs(n: int) -> list[dict]:
    return ([{"package": f"debian:py{i}@1", "path": "m.py", "language": "python", "text": PY} for i in range(n)]
            + [{"package": f"npm:ts{i}@1", "path": "m.ts", "language": "typescript", "text": TS} for i in range(n)])


class FimTasksTest(unittest.TestCase):
    def test_candidates_skip_comments_and_short_lines(self):
        self.assertFalse(is_candidate("    # a comment line"))
        self.assertFalse(is_candidate("  // a comment"))
        self.assertFalse(is_candidate("  }"))
        self.assertTrue(is_candidate("    return low;"))

    def test_each_task_cuts_its_file_and_follows_the_format(self):
        tasks = build_tasks(docs(40), seed=3)
        self.assertTrue(tasks)
        texts = {"python": PY, "typescript": TS}
        for t in tasks:
            self.assertEqual(set(t), {"id", "language", "kind", "source", "prefix", "suffix", "expected"})
            text = texts[t["language"]]
            self.assertIn(t["prefix"] + t["expected"] + t["suffix"], text)
            self.assertTrue(text.startswith(t["prefix"]), "the prefix runs from the file start (files are short)")
            self.assertEqual(t["expected"], t["expected"].strip(), "middles start after the indentation, end at a line end")
            self.assertTrue(t["suffix"] == "" or t["suffix"].startswith("\n"))
            self.assertTrue(is_candidate(t["expected"].split("\n")[0]))
            self.assertEqual("\n" in t["expected"], t["kind"] == "multi-line")

    def test_quotas_per_language_and_kind(self):
        tasks = build_tasks(docs(400), seed=3)
        for lang in ("python", "typescript"):
            kinds = [t["kind"] for t in tasks if t["language"] == lang]
            self.assertEqual(kinds.count("single-line"), make_fim_tasks.SINGLE_PER_LANGUAGE)
            self.assertEqual(kinds.count("multi-line"), make_fim_tasks.MULTI_PER_LANGUAGE)
        self.assertEqual(len({t["id"] for t in tasks}), len(tasks))

    def test_deterministic_for_a_seed(self):
        self.assertEqual(build_tasks(docs(30), seed=5), build_tasks(docs(30), seed=5))
        self.assertNotEqual(build_tasks(docs(30), seed=5), build_tasks(docs(30), seed=6))


if __name__ == "__main__":
    unittest.main()
