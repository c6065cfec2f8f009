"""Writes a trained code model (train.py's checkpoint) as a format-v1 model directory (models/FORMAT.md).

    /usr/bin/python3 models/pipeline/export_model.py [--config models/pipeline/configs/code-v1.json]
        [--out models/<modelId>] [--ffn-dtype f16|f32] [--checkpoint PATH] [--run-dir DIR]
        [--eval-rows N] [--sparsity-rows N]

Reads .cache/train/<run>/ckpt.pt and that run's tokenizer.json. A checkpoint whose identity (model,
data, tokenizer sha256, train seed, batch rows: checkpoint.identity) differs from the config's is refused
with the differing fields named, exit code 2.

Writes what make_fixture.py writes, from the trained weights: embed.onnx, attn.<l>.onnx, ffn.onnx,
head.onnx (graphs.py; with tied embeddings head.onnx holds its own copy of the embedding matrix),
ffn.bin (float16 by default), the run's tokenizer.json and manifest.json. head.onnx adds a logit bias
of -30 to <|fim_prefix|>, <|fim_suffix|> and <|fim_middle|>, which the model must never emit;
<|endoftext|> and <|file_sep|> are the stop tokens and keep their logits.

Checks, before the output directory is touched (the new files are written next to it first):
reference.py reading the written files computes the torch model's logits within 1e-3 (torch with its
FFN weights rounded as ffn.bin stores them), at every prompt position and over greedy steps, for a
plain and a FIM prompt. A failure exits 1 and leaves the written files for inspection.

Measures with the torch model: FFN activation sparsity on held-out rows (manifest `sparsity`), and
held-out loss, perplexity and bits per byte (per language when .cache/corpus/heldout.jsonl is there).
With parameter counts, the head's share of per-token decode compute and file sizes, that is printed as
JSON and written to .cache/train/<run>/export-report.json. Progress goes to stderr.

Replacing an existing model directory removes the files its manifest lists (and manifest.json) and
moves the new ones in; other files there (loss.png from plot_loss.py) stay.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F

import bpe
from checkpoint import CheckpointMismatchError, batch, load_checkpoint, rows_of
from fim import EOT, FILE_SEP, MID, PRE, SUF
from flashcode_format import DTYPE_F16, DTYPE_F32, DTYPES, FfnLayer, write_ffn_bin, write_manifest
from graphs import Dims, save_graphs
from lm import CodeLm, ModelConfig, rope_inv_freq
from manifest_v1 import v1_manifest
from paths import CORPUS_DIR, DEFAULT_CONFIG, REPO, read_config, run_dir

FIM_LOGIT_BIAS = -30.0
CROSS_CHECK_TOLERANCE = 1e-3
CROSS_CHECK_PROMPT = "import os\n\n\ndef read_lines(path):\n    with open(path) as f:\n        return "
CROSS_CHECK_FIM = ("function add(a, b) {\n  return ", ";\n}\n")
CROSS_CHECK_STEPS = 8
DTYPE_NAMES = {"f16": DTYPE_F16, "f32": DTYPE_F32}
EVAL_BATCH_ROWS = 8


class ExportCheckError(Exception):
    """The written directory does not compute what the checkpoint computes."""


def log(message: str) -> None:
    print(f"export_model: {message}", file=sys.stderr, flush=True)


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


@torch.no_grad()
def torch_logits(model: CodeLm, ids: list[int], bias: np.ndarray) -> np.ndarray:
    """[T, V] logits of one sequence, with head.onnx's bias added."""
    logits, _ = model(torch.tensor([ids], dtype=torch.int64))
    return logits[0].numpy() + bias


def reference_path(ref, prompt: list[int], steps: int) -> tuple[np.ndarray, list[int]]:
    """The reference's logits at every prompt position, then after each of `steps` greedy tokens: [T + steps, V]."""
    cache = ref.empty_cache()
    rows = list(ref.forward(prompt, cache))
    ids: list[int] = []
    for _ in range(steps):
        ids.append(int(np.argmax(rows[-1])))
        rows.append(ref.forward([ids[-1]], cache)[-1])
    return np.stack(rows), ids


def cross_check(model_dir: Path, stored: CodeLm, bias: np.ndarray, steps: int = CROSS_CHECK_STEPS) -> dict:
    """reference.py on the written files vs torch: max |Δlogit| over a plain and a FIM prompt, greedy steps included."""
    from reference import ReferenceModel  # reads the manifest, so only once it is written
    ref = ReferenceModel(model_dir)
    context = stored.c.context_tokens
    worst, positions, greedy_agree = 0.0, 0, True
    prompts = [ref.tokenizer.encode(CROSS_CHECK_PROMPT), ref.fim_prompt(*CROSS_CHECK_FIM)]
    for prompt in prompts:
        prompt = prompt[-(context - steps):]
        ref_logits, ids = reference_path(ref, prompt, steps)
        t_logits = torch_logits(stored, prompt + ids, bias)[:len(ref_logits)]
        worst = max(worst, float(np.max(np.abs(ref_logits - t_logits))))
        positions += len(ref_logits)
        greedy_agree &= [int(i) for i in np.argmax(t_logits[len(prompt) - 1:], axis=-1)[:len(ids)]] == ids
    result = {"maxAbsLogitDiff": worst, "tolerance": CROSS_CHECK_TOLERANCE, "positions": positions,
              "greedyIdsAgree": greedy_agree,
              "what": "reference.py reading the written files vs the torch model (FFN weights as ffn.bin stores them), "
                      f"a plain and a FIM prompt, every prompt position and {steps} greedy steps each"}
    if not worst <= CROSS_CHECK_TOLERANCE:
        raise ExportCheckError(f"reference.py on {model_dir} differs from the torch model by {worst:.3g} "
                               f"(tolerance {CROSS_CHECK_TOLERANCE}) — the export is wrong; nothing was replaced")
    return result


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


def install(staging: Path, out: Path) -> None:
    """Moves the staged files into `out`, replacing the files the old manifest listed; manifest.json last."""
    out.mkdir(parents=True, exist_ok=True)
    old = out / "manifest.json"
    if old.exists():
        try:
            listed = json.loads(old.read_text(encoding="utf-8")).get("files", {})
        except (ValueError, AttributeError):
            listed = {}
        for name in listed:
            if "/" not in name and "\\" not in name and name not in ("", ".", ".."):
                (out / name).unlink(missing_ok=True)
        old.unlink()
    for path in sorted(staging.iterdir()):
        if path.name != "manifest.json":
            os.replace(path, out / path.name)
    os.replace(staging / "manifest.json", out / "manifest.json")
    staging.rmdir()


def _display_path(path: Path) -> str:
    path = Path(path).resolve()
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def export(config: dict, run: Path, out: Path, *, config_path: Optional[Path] = None,
           checkpoint: Optional[Path] = None, ffn_dtype: int = DTYPE_F16, eval_rows: int = 256,
           sparsity_rows: int = 16, corpus_heldout: Optional[Path] = CORPUS_DIR / "heldout.jsonl",
           report_path: Optional[Path] = None) -> dict:
    """Exports run/ckpt.pt (or `checkpoint`) to the model directory `out`; returns the report, also
    written to `report_path` (default run/export-report.json)."""
    run, out = Path(run), Path(out)
    ckpt = load_checkpoint(config, run, checkpoint)
    mc = ModelConfig(**config["model"])
    model = CodeLm(mc)
    model.load_state_dict(ckpt["model"])
    model.eval()
    step, train_cfg = ckpt["step"], ckpt["config"]["train"]
    tokens_trained = step * train_cfg["batchRows"] * mc.context_tokens
    # A GPU run (gpu_train.py, imported by gpu_import.py) is boxed by time, not steps: its last step is its end.
    total_steps, gpu = train_cfg.get("steps", step), ckpt.get("gpu")
    log(f"checkpoint step {step} of {total_steps} ({tokens_trained} tokens)")

    staging = out.parent / f".{out.name}.export-tmp"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    manifest = manifest_for(config, mc, notes="")
    tokenizer = read_tokenizer(run / "tokenizer.json", mc, manifest)
    bias = fim_logit_bias(tokenizer, mc.vocab)
    stored = as_stored(model, ffn_dtype)  # what the written files compute

    write_files(staging, dims_of(mc), export_weights(model, bias), run / "tokenizer.json", ffn_dtype)
    write_manifest(staging, manifest)  # files first, so the reference can verify them
    log("cross-checking reference.py on the written files against torch")
    check = cross_check(staging, stored, bias)

    heldout = np.fromfile(run / "heldout.u16", dtype="<u2")
    if len(heldout) and int(heldout.max()) >= mc.vocab:
        raise ValueError(f"{run / 'heldout.u16'} holds id {int(heldout.max())} ≥ vocab {mc.vocab}")
    sparsity_picks = pick_rows(heldout, mc.context_tokens, sparsity_rows)
    log(f"sparsity over {len(sparsity_picks)} held-out rows")
    per_layer = measure_sparsity(stored, heldout, sparsity_picks)
    sparsity = {
        "meanActivationSparsity": round(float(np.mean(per_layer)), 4),
        "perLayer": [round(x, 4) for x in per_layer],
        "measuredOn": (f"torch forward pass (models/pipeline/export_model.py, FFN weights as ffn.bin stores them) over "
                       f"{len(sparsity_picks)} rows × {mc.context_tokens} tokens of held-out code "
                       f"({_display_path(run / 'heldout.u16')}: held-out files, not trained on)"),
    }
    eval_picks = pick_rows(heldout, mc.context_tokens, eval_rows)
    log(f"held-out loss over {len(eval_picks)} rows")
    eot = tokenizer.special[EOT]
    evaluation = heldout_eval(stored, heldout, eval_picks, token_byte_lengths(tokenizer, mc.vocab), eot, corpus_heldout)

    dtype_name = {DTYPE_F16: "float16", DTYPE_F32: "float32"}[ffn_dtype]
    cfg_name = _display_path(config_path) if config_path else "a config given in-process"
    tied = ("Tied embeddings: trained with the output head reusing the embedding matrix; head.onnx holds its own "
            "copy of that matrix (embed.onnx and head.onnx each store it). " if mc.tied_embeddings else "")
    trainer = (f"models/pipeline/gpu_train.py on one {gpu['gpu']['device']} ({gpu['training']['seconds']} s of "
               "training), imported by gpu_import.py," if gpu else "models/pipeline/train.py")
    manifest["notes"] = (
        f"Trained by {trainer} from {cfg_name} (run {config['run']}): checkpoint step {step} of "
        f"{total_steps}, {tokens_trained} tokens ({train_cfg['batchRows']} rows × {mc.context_tokens} per step); "
        f"tokenizer sha256 {ckpt['identity']['tokenizerSha256']}. Held-out loss {evaluation['loss']} "
        f"(perplexity {evaluation['perplexity']}) over {evaluation['tokens']} tokens. {tied}"
        f"head.onnx adds a logit bias of {FIM_LOGIT_BIAS:g} to {PRE}, {SUF} and {MID}, which the model must never "
        f"emit; {EOT} and {FILE_SEP} are the stop tokens. FFN weights in ffn.bin as {dtype_name}. "
        "Written by models/pipeline/export_model.py.")
    manifest["sparsity"] = sparsity
    final = write_manifest(staging, manifest)
    install(staging, out)
    log(f"wrote {out}")

    counts = model.parameter_count()
    report = {
        "modelId": config["modelId"], "out": _display_path(out), "config": cfg_name,
        "checkpoint": {"path": _display_path(Path(checkpoint or run / "ckpt.pt")), "step": step,
                       "steps": total_steps, "tokensTrained": tokens_trained},
        "parameters": {**counts, "exportedWeights": counts["total"] + (mc.vocab * mc.d_model if mc.tied_embeddings else 0),
                       "note": "exportedWeights counts the head's copy of a tied embedding matrix"},
        "heldout": evaluation,
        "sparsity": sparsity,
        "crossCheck": check,
        "decodeMacsPerToken": decode_macs(mc, sparsity["meanActivationSparsity"]),
        "ffnDtype": dtype_name,
        "files": {name: f["bytes"] for name, f in final["files"].items()},
        "totalBytes": sum(f["bytes"] for f in final["files"].values()),
    }
    report_path = Path(report_path or run / "export-report.json")
    report_path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=None, help=f"default {_display_path(DEFAULT_CONFIG)}")
    parser.add_argument("--out", type=Path, default=None, help="model directory (default models/<modelId>)")
    parser.add_argument("--ffn-dtype", choices=sorted(DTYPE_NAMES), default="f16")
    parser.add_argument("--checkpoint", type=Path, default=None, help="default <run dir>/ckpt.pt")
    parser.add_argument("--run-dir", type=Path, default=None, help="default .cache/train/<run>")
    parser.add_argument("--eval-rows", type=int, default=256, help="held-out rows for the loss (0: all)")
    parser.add_argument("--sparsity-rows", type=int, default=16, help="held-out rows for the sparsity")
    parser.add_argument("--corpus-heldout", type=Path, default=CORPUS_DIR / "heldout.jsonl",
                        help="heldout.jsonl the run's heldout.u16 was prepared from (per-language figures)")
    args = parser.parse_args(argv)
    config_path = args.config or DEFAULT_CONFIG
    config = read_config(config_path)
    run = args.run_dir or run_dir(config)
    out = args.out or REPO / "models" / config["modelId"]
    try:
        report = export(config, run, out, config_path=config_path, checkpoint=args.checkpoint,
                        ffn_dtype=DTYPE_NAMES[args.ffn_dtype], eval_rows=args.eval_rows,
                        sparsity_rows=args.sparsity_rows, corpus_heldout=args.corpus_heldout)
    except CheckpointMismatchError as e:
        print(f"export_model: refused: {e}", file=sys.stderr)
        return 2
    except (ExportCheckError, FileNotFoundError, ValueError) as e:
        print(f"export_model: failed: {e}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
