"""Turns the cleaned corpus into token streams for training.

    /usr/bin/python3 models/pipeline/prepare_data.py [--config models/pipeline/configs/code-v1.json]

train.u16: every train file cut into chunks of at most chunkChars at line ends, chunks shuffled (seeded),
each made a FIM or plain example (fim.py) and encoded; examples are concatenated. heldout.u16: the
held-out files as plain text, each followed by <|endoftext|> (for perplexity). Both are little-endian
uint16 token ids. Writes data-stats.json with token counts per language.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from collections import defaultdict
from multiprocessing import Pool
from pathlib import Path

import numpy as np

import bpe
from corpus_jsonl import read_jsonl
from fim import EOT, FimRates, Piece, chunk_document, make_example
from paths import CORPUS_DIR, read_config, run_dir

_tokenizer: bpe.ByteLevelBpe | None = None


def _init_worker(tokenizer_path: str) -> None:
    global _tokenizer
    _tokenizer = bpe.ByteLevelBpe.from_tokenizer_json(json.loads(Path(tokenizer_path).read_text(encoding="utf-8")))


def encode_pieces(pieces: list[Piece]) -> np.ndarray:
    assert _tokenizer is not None
    ids: list[int] = []
    for text, special in pieces:
        if special:
            ids.append(_tokenizer.special[text])
        elif text:
            ids.extend(_tokenizer.encode_ordinary(text))
    return np.asarray(ids, dtype=np.uint16)


def build_examples(path: Path, rng: random.Random, rates: FimRates, chunk_chars: int) -> tuple[list[list[Piece]], list[str]]:
    chunks: list[tuple[str, str]] = []
    for doc in read_jsonl(path):
        chunks.extend((doc["language"], c) for c in chunk_document(doc["text"], chunk_chars))
    rng.shuffle(chunks)
    return [make_example(text, rng, rates) for _, text in chunks], [lang for lang, _ in chunks]


def write_stream(path: Path, examples: list[list[Piece]], languages: list[str], pool: Pool) -> dict:
    tokens_by_lang: dict[str, int] = defaultdict(int)
    with open(path, "wb") as f:
        for lang, ids in zip(languages, pool.imap(encode_pieces, examples, chunksize=64)):
            f.write(ids.astype("<u2").tobytes())
            tokens_by_lang[lang] += len(ids)
    return {"tokens": sum(tokens_by_lang.values()), "examples": len(examples), "tokensByLanguage": dict(sorted(tokens_by_lang.items()))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    config = read_config(args.config)
    data = config["data"]
    out = run_dir(config)
    rates = FimRates(fim=data["fim"], spm=data["spm"], rest_of_line=data["restOfLine"], whole_lines=data["wholeLines"])
    t0 = time.time()
    with Pool(args.workers, initializer=_init_worker, initargs=(str(out / "tokenizer.json"),)) as pool:
        examples, langs = build_examples(CORPUS_DIR / "train.jsonl", random.Random(data["seed"]), rates, data["chunkChars"])
        train = write_stream(out / "train.u16", examples, langs, pool)
        heldout_docs = list(read_jsonl(CORPUS_DIR / "heldout.jsonl"))
        heldout = write_stream(out / "heldout.u16", [[(d["text"], False), (EOT, True)] for d in heldout_docs],
                               [d["language"] for d in heldout_docs], pool)
    stats = {"train": train, "heldout": heldout, "seconds": round(time.time() - t0, 1),
             "corpusSha256": {name: hashlib.sha256((CORPUS_DIR / name).read_bytes()).hexdigest()
                              for name in ("train.jsonl", "heldout.jsonl")}}
    (out / "data-stats.json").write_text(json.dumps(stats, indent=1) + "\n")
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
