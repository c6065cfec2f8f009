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
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Optional

import numpy as np

from checkpoint import CheckpointMismatchError, load_checkpoint
from export_check import cross_check
from export_v1 import (FIM_LOGIT_BIAS, ExportCheckError, as_stored, dims_of, export_weights, fim_logit_bias,
                       manifest_for, read_tokenizer, write_files)
from fim import EOT, FILE_SEP, MID, PRE, SUF
from flashcode_format import DTYPE_F16, DTYPE_F32, write_manifest
from heldout_eval import decode_macs, heldout_eval, measure_sparsity, pick_rows, token_byte_lengths
from lm import CodeLm, ModelConfig
from paths import CORPUS_DIR, DEFAULT_CONFIG, REPO, read_config, run_dir

DTYPE_NAMES = {"f16": DTYPE_F16, "f32": DTYPE_F32}


def log(message: str) -> None:
    print(f"export_model: {message}", file=sys.stderr, flush=True)


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
