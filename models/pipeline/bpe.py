"""Byte-level BPE (GPT-2 style): a small deterministic trainer, a pure-Python reference encoder, and
the Hugging Face tokenizer.json that @huggingface/tokenizers 0.2.0 loads.

The encoder mirrors that library's steps exactly: split out special tokens (longest match), split
the rest with the GPT-2 regex, map UTF-8 bytes to the byte-level alphabet, then merge by rank.
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from functools import lru_cache
from typing import Iterable, Sequence


@lru_cache(maxsize=None)
def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte → printable character map (what ByteLevel pre-tokenizer/decoder use)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


@lru_cache(maxsize=None)
def unicode_to_bytes() -> dict[str, int]:
    return {c: b for b, c in bytes_to_unicode().items()}


# JavaScript's \s under the `u` flag (the library's regex runs in JS): WhiteSpace + LineTerminator.
_JS_SPACE = "\t\n\x0b\x0c\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def _category_class(prefix: str) -> str:
    """A character-class body of every code point whose general category starts with `prefix`
    (Python's `re` has no \\p{..}; this spells \\p{L} / \\p{N} out as ranges)."""
    ranges: list[list[int]] = []
    for cp in range(0x110000):
        if unicodedata.category(chr(cp)).startswith(prefix):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    esc = lambda cp: f"\\U{cp:08x}"
    return "".join(esc(a) if a == b else f"{esc(a)}-{esc(b)}" for a, b in ranges)


@lru_cache(maxsize=None)
def pretokenize_regex() -> re.Pattern:
    """The ByteLevel pre-tokenizer's pattern,
    's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+ (JS `gu` flags),
    with \\s as JavaScript defines it. Letter/number categories follow Python's Unicode tables (14.0),
    which can differ from Node's only on code points assigned since."""
    L, N, S = _category_class("L"), _category_class("N"), _JS_SPACE
    return re.compile(
        rf"'s|'t|'re|'ve|'m|'ll|'d| ?[{L}]+| ?[{N}]+| ?[^{S}{L}{N}]+|[{S}]+(?![^{S}])|[{S}]+"
    )


def pretokenize(text: str) -> list[str]:
    """Pre-tokens of `text` in the byte-level alphabet."""
    table = bytes_to_unicode()
    return ["".join(table[b] for b in piece.encode("utf-8")) for piece in pretokenize_regex().findall(text)]


def train_bpe(texts: Iterable[str], merges_wanted: int) -> list[tuple[str, str]]:
    """Learns `merges_wanted` merges. Ties on pair count break on the pair itself (smallest first),
    so the result depends only on the texts."""
    word_counts: Counter[str] = Counter()
    for text in texts:
        word_counts.update(pretokenize(text))
    words = [list(w) for w in sorted(word_counts)]  # symbols of each distinct pre-token
    freqs = [word_counts[w] for w in sorted(word_counts)]

    # pair → total count, and pair → words that contain it; updated per merge, not recounted.
    pair_counts: Counter[tuple[str, str]] = Counter()
    where: dict[tuple[str, str], set[int]] = {}
    for i, syms in enumerate(words):
        for pair in zip(syms, syms[1:]):
            pair_counts[pair] += freqs[i]
            where.setdefault(pair, set()).add(i)

    merges: list[tuple[str, str]] = []
    while len(merges) < merges_wanted and pair_counts:
        best = min(pair_counts, key=lambda p: (-pair_counts[p], p))
        if pair_counts[best] <= 0:
            break
        merges.append(best)
        merged = best[0] + best[1]
        for i in sorted(where.pop(best, ())):
            syms = words[i]
            for pair in zip(syms, syms[1:]):
                pair_counts[pair] -= freqs[i]
            words[i] = syms = _merge_word(syms, best, merged)
            for pair in zip(syms, syms[1:]):
                pair_counts[pair] += freqs[i]
                where.setdefault(pair, set()).add(i)
        pair_counts = Counter({p: c for p, c in pair_counts.items() if c > 0})
    return merges


def _merge_word(syms: Sequence[str], pair: tuple[str, str], merged: str) -> list[str]:
    """Replaces every occurrence of `pair`, left to right, non-overlapping."""
    out: list[str] = []
    i = 0
    while i < len(syms):
        if i + 1 < len(syms) and syms[i] == pair[0] and syms[i + 1] == pair[1]:
            out.append(merged)
            i += 2
        else:
            out.append(syms[i])
            i += 1
    return out


class ByteLevelBpe:
    """Reference encoder/decoder for a tokenizer.json written by `tokenizer_json`."""

    def __init__(self, vocab: dict[str, int], merges: Sequence[tuple[str, str]], special: dict[str, int]):
        self.vocab = vocab
        self.id_to_token = {i: t for t, i in vocab.items()}
        self.id_to_token.update({i: t for t, i in special.items()})
        self.ranks = {pair: rank for rank, pair in enumerate(merges)}
        self.special = special
        # Longest first: at each position the longest special token wins, as in the JS splitter.
        alternatives = sorted(special, key=len, reverse=True)
        self._special_re = re.compile("|".join(re.escape(s) for s in alternatives)) if special else None
        self._word_ids: dict[str, list[int]] = {}  # memo for encode_ordinary

    @classmethod
    def from_tokenizer_json(cls, doc: dict) -> "ByteLevelBpe":
        model = doc["model"]
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
        special = {t["content"]: t["id"] for t in doc["added_tokens"]}
        return cls(dict(model["vocab"]), merges, special)

    def bpe(self, word: str) -> list[str]:
        syms = list(word)
        while len(syms) > 1:
            ranked = [(self.ranks.get(p, None), p) for p in zip(syms, syms[1:])]
            ranked = [(r, p) for r, p in ranked if r is not None]
            if not ranked:
                break
            _, best = min(ranked)
            syms = _merge_word(syms, best, best[0] + best[1])
        return syms

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        pos = 0
        pieces: list[tuple[str, bool]] = []  # (text, is_special)
        if self._special_re is not None:
            for m in self._special_re.finditer(text):
                pieces.append((text[pos:m.start()], False))
                pieces.append((m.group(0), True))
                pos = m.end()
        pieces.append((text[pos:], False))
        for piece, is_special in pieces:
            if is_special:
                ids.append(self.special[piece])
                continue
            for word in pretokenize(piece):
                ids.extend(self.vocab[t] for t in self.bpe(word))
        return ids

    def encode_ordinary(self, text: str) -> list[int]:
        """Encodes text with special-token strings treated as plain text (corpus files may contain
        them literally); memoized per pre-token, for encoding a corpus."""
        ids: list[int] = []
        table = bytes_to_unicode()
        memo = self._word_ids
        for piece in pretokenize_regex().findall(text):
            word_ids = memo.get(piece)
            if word_ids is None:
                word = "".join(table[b] for b in piece.encode("utf-8"))
                word_ids = memo[piece] = [self.vocab[t] for t in self.bpe(word)]
            ids.extend(word_ids)
        return ids

    def token_bytes(self, token_id: int) -> bytes:
        """The UTF-8 bytes a token stands for (a special token stands for its own text)."""
        token = self.id_to_token[token_id]
        if token in self.special:
            return token.encode("utf-8")
        table = unicode_to_bytes()
        return bytes(table[c] for c in token)

    def decode(self, ids: Iterable[int]) -> str:
        return b"".join(self.token_bytes(i) for i in ids).decode("utf-8", errors="replace")


def build_vocab(merges: Sequence[tuple[str, str]], special_tokens: Sequence[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Ids: 0–255 the bytes in byte order, then merges in rank order, then the special tokens."""
    table = bytes_to_unicode()
    vocab = {table[b]: b for b in range(256)}
    for a, b in merges:
        vocab[a + b] = len(vocab)
    special = {}
    for s in special_tokens:
        special[s] = len(vocab) + len(special)
    return vocab, special


def tokenizer_json(vocab: dict[str, int], merges: Sequence[tuple[str, str]], special: dict[str, int]) -> str:
    """A Hugging Face tokenizer.json (byte-level BPE). Special tokens are also in model.vocab, with the
    same ids, as GPT-2's <|endoftext|> is, so every id decodes through either table."""
    full_vocab = dict(vocab)
    full_vocab.update(special)
    doc = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
            for s, i in special.items()
        ],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": True},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
            "vocab": full_vocab,
            # "a b" strings: byte-level symbols never contain a space, and every reader accepts this form.
            "merges": [f"{a} {b}" for a, b in merges],
        },
    }
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
