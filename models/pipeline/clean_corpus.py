"""Turns the fetched packages (.cache/corpus/raw/, fetch_corpus.py) into the training corpus.

    /usr/bin/python3 models/pipeline/clean_corpus.py

Keeps source files of each package's allow-listed languages, drops minified, bundled, generated,
vendored, fixture/data, too small or too large, non-UTF-8 and licence-excluded files, then exact
duplicates (sha256 of the text with line endings normalised) and near duplicates (MinHash over
5-token shingles, LSH banding, estimated Jaccard >= 0.85). Held-out packages are deduplicated
first, so a train file that duplicates a held-out file is the one dropped. Writes
.cache/corpus/{train,heldout}.jsonl (sorted by package, then path) and stats.json; the same raw
input gives byte-identical output.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from allowlist import ALLOWLIST, CORPUS, MARKER, load_allowlist, package_id, raw_dir
from file_filters import content_hash, content_reason, language_of, path_reason

SHINGLE_TOKENS = 5
NUM_PERM, BANDS = 128, 16  # 16 bands of 8 rows: P(candidate) ≈ 0.99 at Jaccard 0.85, ≈ 0.06 at 0.5
NEAR_DUP_JACCARD = 0.85
TOKEN = re.compile(r"\w+|[^\w\s]")
MINHASH_SEED = 20240601


# --- duplicates ------------------------------------------------------------------------------------

class MinHasher:
    """MinHash signatures over hashed 5-token shingles: tokens → crc32, a shingle → a polynomial of
    its 5 token hashes mod 2^64, then NUM_PERM multiply-add hashes (mod 2^64, upper 32 bits kept)."""

    def __init__(self, num_perm: int = NUM_PERM, seed: int = MINHASH_SEED):
        rng = np.random.default_rng(seed)
        self.a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) | np.uint64(1)  # [num_perm] odd multipliers
        self.b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)  # [num_perm]
        self.token_ids: dict[str, int] = {}

    def shingles(self, text: str) -> np.ndarray:
        """[shingles] u64 hashes of the file's 5-token windows (one window if it is shorter)."""
        ids = self.token_ids
        tokens = TOKEN.findall(text)
        hashes = np.fromiter((ids.get(t) or ids.setdefault(t, zlib.crc32(t.encode("utf-8")) | 1) for t in tokens),
                             dtype=np.uint64, count=len(tokens))
        if hashes.size == 0:
            hashes = np.zeros(1, dtype=np.uint64)
        n = max(1, hashes.size - SHINGLE_TOKENS + 1)
        shingle = np.zeros(n, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for k in range(min(SHINGLE_TOKENS, hashes.size)):
                shingle = shingle * np.uint64(1_000_003) + hashes[k:k + n]
        return np.unique(shingle)

    def signature(self, text: str) -> np.ndarray:
        """[num_perm] u32 MinHash signature."""
        shingles = self.shingles(text)
        sig = np.full(self.a.size, np.iinfo(np.uint32).max, dtype=np.uint32)
        with np.errstate(over="ignore"):
            for start in range(0, shingles.size, 4096):
                block = shingles[start:start + 4096, None]  # [block, 1]
                hashed = ((block * self.a + self.b) >> np.uint64(32)).astype(np.uint32)  # [block, num_perm]
                np.minimum(sig, hashed.min(axis=0), out=sig)
        return sig


class NearDupIndex:
    """LSH over MinHash bands; a file is a near duplicate when a kept file shares a band and their
    signatures agree on at least NEAR_DUP_JACCARD of the positions."""

    def __init__(self, bands: int = BANDS, threshold: float = NEAR_DUP_JACCARD):
        self.bands, self.threshold = bands, threshold
        self.buckets: dict[bytes, int] = {}
        self.kept: list[np.ndarray] = []

    def _keys(self, sig: np.ndarray) -> list[bytes]:
        rows = sig.size // self.bands
        return [bytes([band]) + sig[band * rows:(band + 1) * rows].tobytes() for band in range(self.bands)]

    def match(self, sig: np.ndarray) -> int | None:
        """Index of the kept file this one near-duplicates, or None (then it is added)."""
        keys = self._keys(sig)
        for candidate in sorted({self.buckets[k] for k in keys if k in self.buckets}):
            if np.mean(self.kept[candidate] == sig) >= self.threshold:
                return candidate
        index = len(self.kept)
        self.kept.append(sig)
        for key in keys:
            self.buckets.setdefault(key, index)
        return None


# --- driver ----------------------------------------------------------------------------------------

@dataclass
class Doc:
    package: str
    path: str
    language: str
    text: str


def candidate_files(pkg: dict, corpus: Path, drops: dict) -> list[Doc]:
    """Source files of one fetched package that pass the per-file filters, sorted by path."""
    root = raw_dir(pkg, corpus)
    marker = json.loads((root / MARKER).read_text(encoding="utf-8"))
    excluded = marker.get("excludedFiles", {})
    languages = set(pkg["languages"])
    docs = []
    paths = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    for path in paths:
        language = language_of(path)
        if language not in languages:
            continue
        reason = "licence" if path in excluded else path_reason(path)
        text = ""
        if reason is None:
            reason, text = content_reason((root / path).read_bytes())
        if reason:
            drops[reason] = drops.get(reason, 0) + 1
            continue
        docs.append(Doc(package_id(pkg), path, language, text))
    return docs


def add(stats: dict, doc: Doc) -> None:
    entry = stats.setdefault(doc.language, {"files": 0, "bytes": 0, "lines": 0})
    entry["files"] += 1
    entry["bytes"] += len(doc.text.encode("utf-8"))
    entry["lines"] += doc.text.count("\n") + (0 if doc.text.endswith("\n") else 1)


def clean(allow: dict, corpus: Path, log=print) -> tuple[dict[str, list[Doc]], dict]:
    """The kept documents per split and the statistics, for the packages fetched under `corpus`."""
    drops: dict[str, int] = {}
    missing = []
    order = {"heldout": 0, "train": 1}  # held-out first: duplicates are dropped from train
    packages = sorted(allow["packages"], key=lambda p: (order[p["split"]], package_id(p)))
    seen: dict[str, str] = {}
    hasher, index = MinHasher(), NearDupIndex()
    kept: dict[str, list[Doc]] = {"train": [], "heldout": []}
    index_split: list[str] = []
    dup = {"exact": 0, "near": 0, "trainDroppedAsDupOfHeldout": 0}
    for pkg in packages:
        if not (raw_dir(pkg, corpus) / MARKER).is_file():
            missing.append(package_id(pkg))
            continue
        docs = candidate_files(pkg, corpus, drops)
        for doc in docs:
            digest = content_hash(doc.text)
            if digest in seen:
                dup["exact"] += 1
                dup["trainDroppedAsDupOfHeldout"] += pkg["split"] == "train" and seen[digest] == "heldout"
                continue
            seen[digest] = pkg["split"]
            near = index.match(hasher.signature(doc.text))
            if near is not None:
                dup["near"] += 1
                dup["trainDroppedAsDupOfHeldout"] += pkg["split"] == "train" and index_split[near] == "heldout"
                continue
            index_split.append(pkg["split"])
            kept[pkg["split"]].append(doc)
        log(f"{package_id(pkg)}: {len(docs)} candidate files", file=sys.stderr)
    for split in kept:
        kept[split].sort(key=lambda d: (d.package, d.path))
    stats = {"splits": {}, "dropped": dict(sorted(drops.items())), "duplicates": dup, "missingPackages": missing,
             "packages": {}}
    for split, docs in kept.items():
        per_language: dict = {}
        for doc in docs:
            add(per_language, doc)
            add(stats["packages"].setdefault(doc.package, {}), doc)
        stats["splits"][split] = dict(sorted(per_language.items()))
    stats["packages"] = dict(sorted(stats["packages"].items()))
    return kept, stats


def write_jsonl(path: Path, docs: list[Doc]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for d in docs:
            out.write(json.dumps({"package": d.package, "path": d.path, "language": d.language, "text": d.text},
                                 ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--allowlist", type=Path, default=ALLOWLIST)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    kept, stats = clean(load_allowlist(args.allowlist), args.corpus, log=print)
    for split, docs in kept.items():
        write_jsonl(args.corpus / f"{split}.jsonl", docs)
    (args.corpus / "stats.json").write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")
    for split, languages in stats["splits"].items():
        for language, s in languages.items():
            print(f"{split:8} {language:11} {s['files']:7} files {s['bytes'] / 1e6:8.2f} MB", file=sys.stderr)
    if stats["missingPackages"]:
        print(f"not fetched (run fetch_corpus.py): {', '.join(stats['missingPackages'])}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
