"""Fill-in-the-middle training examples, cut at character level so that prefix, suffix and middle are
tokenized separately — as the engine tokenizes them at completion time.

An example is a list of pieces: text to encode, or one of the special token names below.
  PSM: <pre> prefix <suf> suffix <mid> middle <eot>      (the order the engine prompts with)
  SPM: <pre> <suf> suffix <mid> prefix middle <eot>      (SantaCoder's variant; helps the suffix get used)
  plain left-to-right: text <eot>
"""
from __future__ import annotations

import random
from dataclasses import dataclass

PRE, SUF, MID, EOT, FILE_SEP = "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|endoftext|>", "<|file_sep|>"
SPECIAL_TOKENS = [EOT, PRE, MID, SUF, FILE_SEP]  # id order in tokenizer.json (after the merges)

Piece = tuple[str, bool]  # (text, is_special)


@dataclass(frozen=True)
class FimRates:
    fim: float = 0.7          # share of examples cut for FIM; the rest are plain left-to-right
    spm: float = 0.5          # share of FIM examples in SPM order
    rest_of_line: float = 0.4  # middle = the rest of one line from a cursor inside it
    whole_lines: float = 0.3   # middle = 1–4 whole lines (from their indentation on)
    # the remainder: a uniformly random character span (StarCoder's FIM)


def chunk_document(text: str, max_chars: int) -> list[str]:
    """Splits at line ends into pieces of at most max_chars (a longer single line is cut hard)."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.splitlines(keepends=True):
        while len(line) > max_chars:
            if current:
                chunks.append("".join(current))
                current, size = [], 0
            chunks.append(line[:max_chars])
            line = line[max_chars:]
        if size + len(line) > max_chars and current:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line)
    if current:
        chunks.append("".join(current))
    return [c for c in chunks if c.strip()]


def _line_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line's content, end before its "\\n"."""
    spans, pos = [], 0
    for line in text.splitlines(keepends=True):
        content = line.rstrip("\r\n")
        spans.append((pos, pos + len(content)))
        pos += len(line)
    return spans


def choose_middle(text: str, rng: random.Random, rates: FimRates) -> tuple[int, int]:
    """[start, end) of the middle, in characters."""
    lines = [(s, e) for s, e in _line_spans(text) if text[s:e].strip()]
    mode = rng.random()
    if lines and mode < rates.rest_of_line:
        s, e = rng.choice(lines)
        indent = s + len(text[s:e]) - len(text[s:e].lstrip())
        return rng.randint(indent, e - 1), e
    if lines and mode < rates.rest_of_line + rates.whole_lines:
        first = rng.randrange(len(lines))
        last = min(len(lines) - 1, first + rng.randint(0, 3))
        s, _ = lines[first]
        indent = s + len(text[s:lines[first][1]]) - len(text[s:lines[first][1]].lstrip())
        return indent, lines[last][1]
    a, b = sorted(rng.randint(0, len(text)) for _ in range(2))
    return a, b


def make_example(text: str, rng: random.Random, rates: FimRates) -> list[Piece]:
    if rng.random() >= rates.fim:
        return [(text, False), (EOT, True)]
    start, end = choose_middle(text, rng, rates)
    prefix, middle, suffix = text[:start], text[start:end], text[end:]
    if rng.random() < rates.spm:
        return [(PRE, True), (SUF, True), (suffix, False), (MID, True), (prefix, False), (middle, False), (EOT, True)]
    return [(PRE, True), (prefix, False), (SUF, True), (suffix, False), (MID, True), (middle, False), (EOT, True)]


def psm_prompt(prefix: str, suffix: str) -> list[Piece]:
    """The prompt the engine builds (models/FORMAT.md, fim.order "psm"); the model answers the middle."""
    return [(PRE, True), (prefix, False), (SUF, True), (suffix, False), (MID, True)]
