"""What the torch model does on held-out rows: FFN activation sparsity, next-token loss, perplexity and
bits per byte (per language when the held-out files' languages can be told), and the multiply-adds
per decoded token. The figures of export_model.py's report and the manifest's `sparsity` block."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F

import bpe
from checkpoint import batch, rows_of
from lm import CodeLm, ModelConfig

EVAL_BATCH_ROWS = 8


def pick_rows(tokens: np.ndarray, context: int, wanted: int) -> np.ndarray:
    """`wanted` rows spread evenly over the stream (all of them when wanted is 0 or more than there are)."""
    total = rows_of(tokens, context)
    if total < 1:
        raise ValueError(f"the held-out stream has {len(tokens)} tokens, fewer than one row of {context + 1}")
    if wanted <= 0 or wanted >= total:
        return np.arange(total)
    return np.unique(np.linspace(0, total - 1, wanted).astype(np.int64))


@torch.no_grad()
def measure_sparsity(model: CodeLm, heldout: np.ndarray, rows: np.ndarray) -> list[float]:
    """Per layer: share of FFN activations (the ReLU'd gate) exactly zero, over every token of `rows`."""
    context = model.c.context_tokens
    zeros = np.zeros(model.c.layers)
    total = 0
    for i in range(0, len(rows), EVAL_BATCH_ROWS):
        ids = batch(heldout, rows[i:i + EVAL_BATCH_ROWS], context)[:, :-1]
        _, acts = model(ids)
        zeros += [int((a == 0).sum()) for a in acts]
        total += acts[0].numel()
    return [float(z / total) for z in zeros]


def token_byte_lengths(tokenizer: bpe.ByteLevelBpe, vocab: int) -> np.ndarray:
    """UTF-8 bytes each id stands for; 0 for special tokens (they are not text of the files)."""
    special = set(tokenizer.special.values())
    return np.array([0 if i in special else len(tokenizer.token_bytes(i)) for i in range(vocab)], dtype=np.int64)


def heldout_languages(tokens: np.ndarray, eot: int, corpus_heldout: Optional[Path]) -> tuple[Optional[np.ndarray], Optional[list[str]], str]:
    """Per token, the index of its held-out file, and each file's language (prepare_data.py writes the
    files in heldout.jsonl order, each followed by <|endoftext|>); None and why when it cannot be told."""
    if corpus_heldout is None or not Path(corpus_heldout).exists():
        return None, None, f"no per-language figures: {corpus_heldout} is not there"
    with open(corpus_heldout, encoding="utf-8") as f:
        languages = [json.loads(line)["language"] for line in f if line.strip()]
    ends = int(np.count_nonzero(tokens == eot))
    if ends != len(languages) or (len(tokens) and tokens[-1] != eot):
        return None, None, (f"no per-language figures: heldout.u16 has {ends} files, {corpus_heldout} {len(languages)} "
                            "(prepared from another corpus?)")
    doc_of = np.concatenate([[0], np.cumsum(tokens == eot)[:-1]])   # an <|endoftext|> belongs to the file it ends
    return doc_of, languages, f"per language from {corpus_heldout}"


def _figures(nll: float, tokens: int, n_bytes: int) -> dict:
    loss = nll / tokens
    out = {"tokens": tokens, "loss": round(loss, 4), "perplexity": round(math.exp(loss), 3)}
    if n_bytes:
        out["bytes"] = n_bytes
        out["bitsPerByte"] = round(nll / math.log(2) / n_bytes, 4)
    return out


@torch.no_grad()
def heldout_eval(model: CodeLm, heldout: np.ndarray, rows: np.ndarray, byte_lengths: np.ndarray, eot: int,
                 corpus_heldout: Optional[Path]) -> dict:
    """Next-token loss over `rows` (each row of context tokens predicts its next context tokens, as in
    training), perplexity, bits per byte (special tokens count 0 bytes), per language when it can be told."""
    context = model.c.context_tokens
    doc_of, languages, language_note = heldout_languages(heldout, eot, corpus_heldout)
    nll_sum, n_tokens, n_bytes = 0.0, 0, 0
    by_lang: dict[str, list] = {}
    for i in range(0, len(rows), EVAL_BATCH_ROWS):
        picked = rows[i:i + EVAL_BATCH_ROWS]
        ids = batch(heldout, picked, context)
        logits, _ = model(ids[:, :-1])
        targets = ids[:, 1:]
        nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none").double().numpy()
        target_ids = targets.reshape(-1).numpy()
        target_bytes = byte_lengths[target_ids]
        nll_sum += float(nll.sum())
        n_tokens += nll.size
        n_bytes += int(target_bytes.sum())
        if doc_of is not None:
            positions = (picked[:, None] * context + 1 + np.arange(context)[None, :]).reshape(-1)
            langs = np.array([languages[d] for d in doc_of[positions]])
            for lang in np.unique(langs):
                sel = langs == lang
                acc = by_lang.setdefault(str(lang), [0.0, 0, 0])
                acc[0] += float(nll[sel].sum())
                acc[1] += int(sel.sum())
                acc[2] += int(target_bytes[sel].sum())
    out = {"rows": int(len(rows)), "rowsInStream": rows_of(heldout, context), "contextTokens": context,
           **_figures(nll_sum, n_tokens, n_bytes),
           "streamTokens": int(len(heldout)),
           "streamBytesPerToken": round(float(byte_lengths[heldout].sum()) / max(1, len(heldout)), 3),
           "note": "bits per byte = summed loss (incl. <|endoftext|>) / ln 2 / UTF-8 bytes of the predicted tokens; "
                   + language_note}
    if by_lang:
        out["perLanguage"] = {lang: _figures(*acc) for lang, acc in sorted(by_lang.items())}
    return out


def decode_macs(mc: ModelConfig, mean_sparsity: float) -> dict:
    """Multiply-adds per decoded token (FLOPs = 2 × MACs) by matmul, and the output head's share."""
    d, H, Hkv, hd, Fn, V, L = mc.d_model, mc.heads, mc.kv_heads, mc.head_dim, mc.ffn_size, mc.vocab, mc.layers
    proj = d * H * hd + 2 * d * Hkv * hd + H * hd * d
    ffn = (3 if mc.ffn_gated else 2) * d * Fn
    head = d * V
    dense = L * (proj + ffn) + head
    scores = L * 2 * H * hd * mc.context_tokens             # q·k and p·v at the last position of a full context
    # A sparse FFN still computes its first matmul (gate, or up when not gated) for every neuron to find
    # the zeros, and skips the rest of each zero neuron.
    sparse_ffn = d * Fn + (ffn - d * Fn) * (1 - mean_sparsity)
    return {
        "attentionProjectionsPerLayer": proj, "ffnPerLayer": ffn, "head": head, "weightMatmuls": dense,
        "headShare": round(head / dense, 4),
        "attentionScoresAtFullContext": scores,
        "headShareAtFullContext": round(head / (dense + scores), 4),
        "headShareWithSparseFfn": round(head / (L * (proj + sparse_ffn) + head), 4),
        "note": "multiply-adds per decoded token; headShare = d×V over every weight matmul (embedding is a lookup); "
                "AtFullContext adds attention scores at contextTokens; WithSparseFfn skips the up/down rows of "
                "neurons that are zero at the measured mean sparsity",
    }
