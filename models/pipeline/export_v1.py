"""A trained CodeLm (lm.py) as the files of a format-v1 model directory (models/FORMAT.md): graph
initializers and ffn.bin from its weights, head.onnx's FIM logit bias, the manifest, the run's
tokenizer checked against both; the model as the written files compute it (FFN weights rounded as
ffn.bin stores them). export_model.py's writing half."""
from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path

import numpy as np
import torch

import bpe
from fim import MID, PRE, SUF
from flashcode_format import DTYPE_F32, DTYPES, FfnLayer, write_ffn_bin
from graphs import Dims, save_graphs
from lm import CodeLm, ModelConfig, rope_inv_freq
from manifest_v1 import v1_manifest

FIM_LOGIT_BIAS = -30.0


class ExportCheckError(Exception):
    """The written directory does not compute what the checkpoint computes."""


def dims_of(mc: ModelConfig) -> Dims:
    return Dims(layers=mc.layers, d_model=mc.d_model, heads=mc.heads, kv_heads=mc.kv_heads, head_dim=mc.head_dim,
                ffn_size=mc.ffn_size, vocab=mc.vocab, norm_eps=mc.norm_eps, rope_theta=mc.rope_theta,
                ffn_activation=mc.ffn_activation, ffn_gated=mc.ffn_gated)


def _np(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().cpu().numpy().astype(np.float32))


def fim_logit_bias(tokenizer: bpe.ByteLevelBpe, vocab: int) -> np.ndarray:
    """[V]: FIM_LOGIT_BIAS on the three FIM tokens, 0 elsewhere (stop tokens included)."""
    bias = np.zeros(vocab, dtype=np.float32)
    for name in (PRE, SUF, MID):
        bias[tokenizer.special[name]] = FIM_LOGIT_BIAS
    return bias


def export_weights(model: CodeLm, bias: np.ndarray) -> tuple[dict, list[dict], list[FfnLayer], dict]:
    """torch parameters → graphs.py initializers (embed, per-layer attention, FFN, head)."""
    c = model.c
    embed = {"embed.weight": _np(model.embed.weight)}
    inv_freq = _np(rope_inv_freq(c.head_dim, c.rope_theta))
    attn, ffn = [], []
    for block in model.blocks:
        attn.append({
            "attn_norm.weight": _np(block.attn_norm.weight),
            "wq_t": _np(block.attn.wq.weight.T), "wk_t": _np(block.attn.wk.weight.T),
            "wv_t": _np(block.attn.wv.weight.T), "wo_t": _np(block.attn.wo.weight.T),
            "rope.inv_freq": inv_freq,
            "ffn_norm.weight": _np(block.ffn_norm.weight),
        })
        f = block.ffn
        ffn.append(FfnLayer(w_gate=_np(f.gate.weight) if f.gate is not None else None,
                            w_up=_np(f.up.weight), w_down=_np(f.down.weight)))
    head = {"final_norm.weight": _np(model.final_norm.weight), "lm_head_t": _np(model.lm_head_weight().T),
            "logit_bias": bias}
    return embed, attn, ffn, head


def as_stored(model: CodeLm, ffn_dtype: int) -> CodeLm:
    """A copy of the model with its FFN weights rounded to ffn.bin's dtype (what the engine computes)."""
    stored = copy.deepcopy(model)
    if ffn_dtype == DTYPE_F32:
        return stored
    np_dtype = DTYPES[ffn_dtype]
    with torch.no_grad():
        for block in stored.blocks:
            for lin in (block.ffn.gate, block.ffn.up, block.ffn.down):
                if lin is None:
                    continue
                rounded = torch.from_numpy(lin.weight.detach().numpy().astype(np_dtype).astype(np.float32))
                if not torch.isfinite(rounded).all():
                    raise ExportCheckError(f"an FFN weight overflows {np_dtype}: export with --ffn-dtype f32")
                lin.weight.copy_(rounded)
    return stored


def manifest_for(config: dict, mc: ModelConfig, notes: str) -> dict:
    """The format-v1 manifest (manifest_v1.py, make_fixture.py's layout) for this model."""
    if not re.fullmatch(r"[a-z0-9.-]+", config["modelId"]):
        raise ValueError(f"modelId {config['modelId']!r} must match [a-z0-9.-]+")
    return v1_manifest(
        model_id=config["modelId"],
        display_name=config["displayName"],
        notes=notes,
        architecture={
            "family": "llama", "layers": mc.layers, "dModel": mc.d_model, "heads": mc.heads, "kvHeads": mc.kv_heads,
            "headDim": mc.head_dim, "ffnSize": mc.ffn_size, "ffnActivation": mc.ffn_activation,
            "ffnGated": mc.ffn_gated, "ropeTheta": mc.rope_theta, "normEps": mc.norm_eps, "vocabSize": mc.vocab,
            "tiedEmbeddings": mc.tied_embeddings,
        },
        context_tokens=mc.context_tokens,
        # The prompt order the engine uses (FORMAT.md §1); the data mixes both (configs' data.spm).
        fim_order=config.get("export", {}).get("fimOrder", "psm"))


def read_tokenizer(path: Path, mc: ModelConfig, manifest: dict) -> bpe.ByteLevelBpe:
    doc = json.loads(path.read_text(encoding="utf-8"))
    tokenizer = bpe.ByteLevelBpe.from_tokenizer_json(doc)
    ids = set(doc["model"]["vocab"].values()) | set(tokenizer.special.values())
    if ids != set(range(mc.vocab)):
        raise ValueError(f"{path} has ids 0…{max(ids)} ({len(ids)} of them); the model's vocab is {mc.vocab}")
    names = [manifest["fim"][k] for k in ("prefixToken", "suffixToken", "middleToken", "endOfTextToken",
                                          "fileSeparatorToken")] + manifest["stopTokens"]
    missing = [n for n in names if n not in tokenizer.special]
    if missing:
        raise ValueError(f"{path} lacks the special tokens {missing}")
    return tokenizer


def write_files(model_dir: Path, dims: Dims, weights, tokenizer_path: Path, ffn_dtype: int) -> None:
    embed, attn, ffn, head = weights
    save_graphs(model_dir, dims, embed["embed.weight"], attn, head)
    write_ffn_bin(model_dir / "ffn.bin", ffn, ffn_dtype)
    shutil.copyfile(tokenizer_path, model_dir / "tokenizer.json")
