"""What the tiny random fixtures (make_fixture.py, format v1; make_fixture_v2.py, format v2) and their
reference goldens (make_reference_golden.py, make_v2_reference_golden.py) share: the logit bias that
keeps greedy output printable, the prompts sparsity and the goldens are measured on, and the v2
fixtures' specs."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import bpe

# Added to special tokens and tokens not printable alone, so greedy decoding of random weights never
# stops early or emits broken bytes.
SUPPRESSED_LOGIT_BIAS = -30.0
SPARSITY_PROMPT = "import os\n\ndef read_lines(path):\n    with open(path) as f:\n        return [line.rstrip() for line in f]\n"
SPARSITY_STEPS = 32
PROMPT_TEXT = "def fibonacci(n):\n    if n < 2:\n        return n\n    return "
FIM_PREFIX = "def add(a, b):\n    return "
FIM_SUFFIX = "\n"


def is_printable_token(tokenizer: bpe.ByteLevelBpe, token_id: int) -> bool:
    """Valid UTF-8 on its own, with no control/format/unassigned characters other than \\n and \\t."""
    if token_id in tokenizer.special.values():
        return False
    try:
        text = tokenizer.token_bytes(token_id).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c in "\n\t" or not unicodedata.category(c).startswith("C") for c in text)


@dataclass(frozen=True)
class FixtureSpec:
    name: str
    seed: int
    heads: int
    kv_heads: int
    activation: str          # silu | relu
    tied: bool
    attention_bias: bool
    rope_theta: float
    norm_eps: float
    fim: bool
    chat: bool
    predictors: bool
    layers: int = 2
    d_model: int = 64
    head_dim: int = 16
    ffn_size: int = 128

    def architecture(self, vocab: int) -> dict:
        return {
            "family": "llama", "layers": self.layers, "dModel": self.d_model, "heads": self.heads,
            "kvHeads": self.kv_heads, "headDim": self.head_dim, "ffnSize": self.ffn_size,
            "ffnActivation": self.activation, "ffnGated": True, "ropeTheta": self.rope_theta,
            "normEps": self.norm_eps, "vocabSize": vocab, "tiedEmbeddings": self.tied,
            "attentionBias": self.attention_bias,
        }


FIXTURES = [
    FixtureSpec("tiny-llama-v2", 20260201, heads=4, kv_heads=2, activation="silu", tied=False, attention_bias=False,
                rope_theta=10000.0, norm_eps=1e-5, fim=True, chat=False, predictors=False),
    FixtureSpec("tiny-qwen2-v2", 20260202, heads=4, kv_heads=1, activation="silu", tied=True, attention_bias=True,
                rope_theta=1000000.0, norm_eps=1e-6, fim=False, chat=True, predictors=False),
    FixtureSpec("tiny-relu-v2", 20260203, heads=4, kv_heads=2, activation="relu", tied=False, attention_bias=False,
                rope_theta=10000.0, norm_eps=1e-5, fim=True, chat=False, predictors=True),
]
