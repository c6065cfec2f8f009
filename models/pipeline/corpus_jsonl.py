"""Reading the cleaned corpus (.cache/corpus/{train,heldout}.jsonl, clean_corpus.py: one document a line
with package, path, language, text): its documents, a language-balanced sample, bytes per token."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import bpe


def read_jsonl(path: Path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def balanced_sample(path: Path, bytes_per_language: int) -> dict[str, list[str]]:
    """Every k-th file of each language, k chosen so each language gives about bytes_per_language."""
    sizes: dict[str, int] = defaultdict(int)
    for doc in read_jsonl(path):
        sizes[doc["language"]] += len(doc["text"].encode("utf-8"))
    stride = {lang: max(1, total // bytes_per_language) for lang, total in sizes.items()}
    seen: dict[str, int] = defaultdict(int)
    sample: dict[str, list[str]] = defaultdict(list)
    for doc in read_jsonl(path):
        lang = doc["language"]
        if seen[lang] % stride[lang] == 0:
            sample[lang].append(doc["text"])
        seen[lang] += 1
    return dict(sample)


def bytes_per_token(tokenizer: bpe.ByteLevelBpe, path: Path, limit_bytes: int) -> dict[str, float]:
    used: dict[str, int] = defaultdict(int)
    tokens: dict[str, int] = defaultdict(int)
    for doc in read_jsonl(path):
        lang = doc["language"]
        if used[lang] >= limit_bytes:
            continue
        used[lang] += len(doc["text"].encode("utf-8"))
        tokens[lang] += len(tokenizer.encode_ordinary(doc["text"]))
    return {lang: round(used[lang] / tokens[lang], 3) for lang in sorted(used)}
