"""Trains the code model's byte-level BPE tokenizer on a language-balanced sample of the train split.

    /usr/bin/python3 models/pipeline/train_tokenizer.py [--config models/pipeline/configs/code-v1.json]

Reads .cache/corpus/train.jsonl and heldout.jsonl (clean_corpus.py), writes .cache/train/<run>/tokenizer.json
and tokenizer-stats.json (bytes per token on held-out code, per language). Deterministic: the sample
is every k-th file per language in the corpus's sorted order, and bpe.train_bpe breaks ties by pair.
"""
from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import bpe
from fim import SPECIAL_TOKENS
from paths import CORPUS_DIR, read_config, run_dir


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args()
    config = read_config(args.config)
    tok_cfg = config["tokenizer"]
    out = run_dir(config)
    out.mkdir(parents=True, exist_ok=True)

    t0 = time.time()
    sample = balanced_sample(CORPUS_DIR / "train.jsonl", tok_cfg["sampleBytesPerLanguage"])
    texts = [t for lang in sorted(sample) for t in sample[lang]]
    merges = bpe.train_bpe(texts, tok_cfg["vocab"] - 256 - len(SPECIAL_TOKENS))
    vocab, special = bpe.build_vocab(merges, SPECIAL_TOKENS)
    if len(vocab) + len(special) != tok_cfg["vocab"]:
        raise SystemExit(f"the sample yields only {len(merges)} merges; vocab would be {len(vocab) + len(special)}")
    (out / "tokenizer.json").write_text(bpe.tokenizer_json(vocab, merges, special), encoding="utf-8")
    tokenizer = bpe.ByteLevelBpe(vocab, merges, special)
    stats = {
        "vocab": tok_cfg["vocab"],
        "sampleFiles": {lang: len(v) for lang, v in sorted(sample.items())},
        "sampleBytes": {lang: sum(len(t.encode("utf-8")) for t in v) for lang, v in sorted(sample.items())},
        "heldoutBytesPerToken": bytes_per_token(tokenizer, CORPUS_DIR / "heldout.jsonl", 1 << 20),
        "seconds": round(time.time() - t0, 1),
    }
    (out / "tokenizer-stats.json").write_text(json.dumps(stats, indent=1) + "\n")
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
