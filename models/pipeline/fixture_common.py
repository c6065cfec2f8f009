"""What the tiny random fixtures (make_fixture.py, format v1; make_fixture_v2.py, format v2) share:
the logit bias that keeps greedy output printable, and the prompt their sparsity is measured on."""
from __future__ import annotations

import unicodedata

import bpe

# Added to special tokens and tokens not printable alone, so greedy decoding of random weights never
# stops early or emits broken bytes.
SUPPRESSED_LOGIT_BIAS = -30.0
SPARSITY_PROMPT = "import os\n\ndef read_lines(path):\n    with open(path) as f:\n        return [line.rstrip() for line in f]\n"
SPARSITY_STEPS = 32


def is_printable_token(tokenizer: bpe.ByteLevelBpe, token_id: int) -> bool:
    """Valid UTF-8 on its own, with no control/format/unassigned characters other than \\n and \\t."""
    if token_id in tokenizer.special.values():
        return False
    try:
        text = tokenizer.token_bytes(token_id).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c in "\n\t" or not unicodedata.category(c).startswith("C") for c in text)
