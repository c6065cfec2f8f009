"""Builds the held-out fill-in-the-middle task set from the held-out packages (never trained on).

    /usr/bin/python3 models/pipeline/make_fim_tasks.py [--out models/eval/heldout-fim.jsonl]

Per language: single-line tasks (the middle is one line's code, from its indentation to its end: the
cursor sits after the indentation, as when a developer starts a new line) and multi-line tasks (2–4
whole lines). Comment-only lines and lines with fewer than MIN_CHARS characters of code are not used
as middles. Prefix and suffix are cut to PREFIX_CHARS / SUFFIX_CHARS around the middle (the engine
fits far less into its context anyway). One JSON object per line, the format of ../shared/DESIGN.md §4:
{"id", "language", "kind", "source", "prefix", "suffix", "expected"}. Deterministic for a seed.
"""
from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from pathlib import Path

from corpus_jsonl import read_jsonl
from paths import CORPUS_DIR, REPO

SEED = 7
SINGLE_PER_LANGUAGE = 100
MULTI_PER_LANGUAGE = 30
MAX_TASKS_PER_FILE = 2
MIN_CHARS = 6
PREFIX_CHARS = 2000
SUFFIX_CHARS = 1000
COMMENT_STARTS = ("#", "//", "/*", "*", '"""', "'''")


def is_candidate(line: str) -> bool:
    code = line.strip()
    return len(code) >= MIN_CHARS and not code.startswith(COMMENT_STARTS)


def line_starts(text: str) -> list[int]:
    starts, pos = [], 0
    for line in text.splitlines(keepends=True):
        starts.append(pos)
        pos += len(line)
    return starts


def make_task(text: str, lines: list[str], starts: list[int], first: int, count: int) -> tuple[str, str, str] | None:
    """(prefix, expected, suffix) for lines[first:first+count], or None if unsuitable."""
    block = lines[first:first + count]
    if not all(is_candidate(l) for l in block[:1]) or any(not l.strip() for l in block):
        return None
    indent = len(block[0]) - len(block[0].lstrip())
    begin = starts[first] + indent
    end = starts[first] + sum(len(l) for l in block)
    middle = text[begin:end]
    stripped = middle.rstrip("\r\n")
    end -= len(middle) - len(stripped)
    return text[max(0, begin - PREFIX_CHARS):begin], stripped, text[end:end + SUFFIX_CHARS]


def build_tasks(docs: list[dict], seed: int) -> list[dict]:
    rng = random.Random(seed)
    by_lang: dict[str, list[dict]] = defaultdict(list)
    for doc in docs:
        by_lang[doc["language"]].append(doc)
    tasks: list[dict] = []
    for lang in sorted(by_lang):
        files = by_lang[lang][:]
        rng.shuffle(files)
        quota = {"single-line": SINGLE_PER_LANGUAGE, "multi-line": MULTI_PER_LANGUAGE}
        for doc in files:
            if not any(quota.values()):
                break
            text = doc["text"]
            lines = text.splitlines(keepends=True)
            starts = line_starts(text)
            taken = 0
            for i in rng.sample(range(len(lines)), len(lines)):
                if taken >= MAX_TASKS_PER_FILE:
                    break
                kind = "multi-line" if quota["multi-line"] and rng.random() < 0.3 else "single-line"
                if not quota[kind]:
                    continue
                cut = make_task(text, lines, starts, i, 1 if kind == "single-line" else rng.randint(2, 4))
                if cut is None or (kind == "multi-line" and "\n" not in cut[1]):
                    continue
                prefix, expected, suffix = cut
                quota[kind] -= 1
                taken += 1
                tasks.append({"id": f"{lang}-{kind}-{len(tasks):04d}", "language": lang, "kind": kind,
                              "source": f"{doc['package']}/{doc['path']}:{i + 1}",
                              "prefix": prefix, "suffix": suffix, "expected": expected})
    return tasks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "models" / "eval" / "heldout-fim.jsonl")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    tasks = build_tasks(list(read_jsonl(CORPUS_DIR / "heldout.jsonl")), args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        for task in tasks:
            f.write(json.dumps(task, ensure_ascii=False) + "\n")
    counts: dict[str, int] = defaultdict(int)
    for task in tasks:
        counts[f"{task['language']}/{task['kind']}"] += 1
    print(json.dumps({"out": str(args.out), "tasks": len(tasks), "counts": dict(sorted(counts.items()))}))


if __name__ == "__main__":
    main()
