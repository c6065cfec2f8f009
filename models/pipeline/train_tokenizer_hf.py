"""Trains the code model's byte-level BPE with the Hugging Face `tokenizers` package (Rust: seconds
where bpe.train_bpe takes minutes), on the same language-balanced sample as train_tokenizer.py, and
writes it in the project's id layout (bytes 0–255 in byte order, merges in rank order, then the
special tokens of fim.py) with bpe.tokenizer_json, so bpe.ByteLevelBpe and the engine read it as any
other. Needs `tokenizers` (PyPI; a venv under .cache/, see the pipeline README).

    .cache/venv/bin/python models/pipeline/train_tokenizer_hf.py --config models/pipeline/configs/code-v2.json
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


def hf_merges(texts: list[str], vocab_size: int) -> list[tuple[str, str]]:
    """The merges, in rank order, of a ByteLevel BPE of vocab_size tokens (256 bytes + merges)
    trained with the pre-tokenizer the engine uses (GPT-2 regex, no prefix space)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, show_progress=False, special_tokens=[],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer=trainer)
    merges = json.loads(tok.to_str())["model"]["merges"]
    return [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in merges]


def project_vocab(merges: list[tuple[str, str]]) -> dict[str, int]:
    """bpe.build_vocab's layout; a merge whose result is already a token (two merge paths to one
    string) keeps that token's id, so ids stay contiguous."""
    table = bpe.bytes_to_unicode()
    vocab = {table[b]: b for b in range(256)}
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    return vocab


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
    merges = hf_merges(texts, tok_cfg["vocab"] - len(SPECIAL_TOKENS))
    vocab = project_vocab(merges)
    special = {s: len(vocab) + i for i, s in enumerate(SPECIAL_TOKENS)}
    if len(vocab) + len(special) != tok_cfg["vocab"]:
        raise SystemExit(f"the sample yields {len(vocab)} tokens + {len(special)} special, not {tok_cfg['vocab']}: sample more text")
    (out / "tokenizer.json").write_text(bpe.tokenizer_json(vocab, merges, special), encoding="utf-8")
    tokenizer = bpe.ByteLevelBpe(vocab, merges, special)
    import tokenizers
    stats = {
        "vocab": tok_cfg["vocab"], "trainer": f"tokenizers {tokenizers.__version__}", "merges": len(merges),
        "sampleFiles": {lang: len(v) for lang, v in sorted(sample.items())},
        "sampleBytes": {lang: sum(len(t.encode("utf-8")) for t in v) for lang, v in sorted(sample.items())},
        "heldoutBytesPerToken": bytes_per_token(tokenizer, CORPUS_DIR / "heldout.jsonl", 1 << 20),
        "seconds": round(time.time() - t0, 1),
    }
    (out / "tokenizer-stats.json").write_text(json.dumps(stats, indent=1) + "\n")
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
