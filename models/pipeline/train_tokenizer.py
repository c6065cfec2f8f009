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
from pathlib import Path

import bpe
from corpus_jsonl import balanced_sample, bytes_per_token
from fim import SPECIAL_TOKENS
from paths import CORPUS_DIR, read_config, run_dir


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
