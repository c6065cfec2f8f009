"""Trains the per-layer active-neuron predictors of an exported code model and adds them to its
directory (models/FORMAT.md §4): predictors.bin, its `files` entry and the manifest's `predictors` block.

    /usr/bin/python3 models/pipeline/train_predictors.py [--config models/pipeline/configs/code-v1.json]
        [--model-dir models/<modelId>] [--run-dir DIR] [--ranks 32,64,96,128] [--recall 0.99]
        [--train-rows N] [--heldout-rows N] [--epochs N]

Per layer, score = (x·A)·B + bias over the FFN input x (the RMSNorm'd hidden state); neuron j is
predicted active iff score[j] > threshold. "Active" is what the engine computes: the neuron's
activation is exactly non-zero (for a ReLU-gated FFN, W_gate[j]·x > 0) with the FFN weights read back
from the directory's ffn.bin. Forward hooks on the run's checkpoint capture x and the active mask on
  - fit rows: --train-rows rows of train.u16, a seeded draw (A, B, bias);
  - held-out rows: 2 × --heldout-rows rows spread evenly over heldout.u16, taken alternately as
    calibration rows (thresholds, ranks) and measurement rows (the figures reported and written).

Fit: A, B, bias start from the best rank-r linear approximation of the gate pre-activation on the fit
rows (reduced-rank regression: the SVD of W_gate·Σ^½, Σ the covariance of x; exact at r = d), each
neuron's score divided by the standard deviation of its residual so that one threshold suits every
neuron; then Adam on binary cross-entropy with positives weighted by negatives/positives.
Threshold: the largest (a midpoint between two scores) keeping calibration recall at least
--recall + CALIBRATION_MARGIN, so that the measurement rows, not seen by any choice, keep --recall.
Rank: of --ranks, the one with the fewest multiply-adds per token on the calibration rows, counting
the predictor (d·r + r·ffnSize) and each predicted neuron's record ((3 if gated else 2)·d: a false
positive is read and computed too).
Storage: float16 when every layer keeps --recall on the measurement rows with the f16-rounded values
(thresholds chosen again on them), else float32.

Refuses (exit 1, nothing written) when the directory's ffn.bin is not the checkpoint's FFN as stored,
or a layer's measured recall misses --recall; a checkpoint that does not match the config exits 2.
Otherwise writes predictors.bin and manifest.json only. Prints a JSON report, also written to
<run dir>/predictors-report.json; progress goes to stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from checkpoint import CheckpointMismatchError, batch, load_checkpoint, rows_of
from flashcode_format import (DTYPE_F16, DTYPE_F32, DTYPES, PredictorLayer, encode_predictors_bin, file_entry,
                              predictors_manifest_entry, read_ffn_bin, verify_manifest_files)
from lm import CodeLm, ModelConfig
from paths import DEFAULT_CONFIG, REPO, read_config, run_dir

CALIBRATION_MARGIN = 0.002
FORWARD_BATCH_ROWS = 8
DTYPE_NAMES = {DTYPE_F16: "float16", DTYPE_F32: "float32"}


@dataclass(frozen=True)
class Options:
    ranks: tuple[int, ...] = (32, 64, 96, 128)
    recall: float = 0.99
    train_rows: int = 192
    heldout_rows: int = 64        # each of calibration and measurement
    epochs: int = 4
    lr: float = 3e-3
    batch_tokens: int = 4096
    seed: int = 1


@dataclass
class Captured:
    """Per layer, over every token of some rows."""
    x: list[torch.Tensor]       # [tokens, d] f32: the FFN input
    active: list[torch.Tensor]  # [tokens, ffnSize] bool: activation exactly non-zero


class StaleModelDirError(Exception):
    """The model directory's ffn.bin is not the checkpoint's FFN as stored."""


def log(message: str) -> None:
    print(f"train_predictors: {message}", file=sys.stderr, flush=True)


@torch.no_grad()
def capture(model: CodeLm, tokens: np.ndarray, rows: np.ndarray) -> Captured:
    c = model.c
    xs: list[list[torch.Tensor]] = [[] for _ in model.blocks]
    masks: list[list[torch.Tensor]] = [[] for _ in model.blocks]

    def hook(l: int):
        def keep(_module, inputs, outputs):
            xs[l].append(inputs[0].reshape(-1, c.d_model).clone())
            masks[l].append(outputs[1].reshape(-1, c.ffn_size) != 0)
        return keep

    handles = [block.ffn.register_forward_hook(hook(l)) for l, block in enumerate(model.blocks)]
    try:
        for i in range(0, len(rows), FORWARD_BATCH_ROWS):
            model(batch(tokens, rows[i:i + FORWARD_BATCH_ROWS], c.context_tokens)[:, :-1])
    finally:
        for h in handles:
            h.remove()
    return Captured([torch.cat(x) for x in xs], [torch.cat(m) for m in masks])


def low_rank_init(w: torch.Tensor, x: torch.Tensor, rank: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """w [ffnSize, d], x [tokens, d] → A [d, r], B [r, ffnSize], bias [ffnSize] minimising the squared
    error of (x·A)·B + bias against x·wᵀ over x, then each neuron scaled by its residual's deviation."""
    x = x.double()
    w = w.double()
    mean = x.mean(0)
    centred = x - mean
    eigvals, eigvecs = torch.linalg.eigh(centred.T @ centred / len(x))
    eigvals = eigvals.clamp_min(1e-10)
    sqrt_cov = eigvecs @ torch.diag(eigvals.sqrt()) @ eigvecs.T
    inv_sqrt_cov = eigvecs @ torch.diag(eigvals.rsqrt()) @ eigvecs.T
    u, s, vh = torch.linalg.svd(sqrt_cov @ w.T, full_matrices=False)
    a = inv_sqrt_cov @ u[:, :rank] * s[:rank]
    b = vh[:rank]
    bias = mean @ w.T - (mean @ a) @ b
    deviation = (centred @ w.T - (centred @ a) @ b).std(0).clamp_min(1e-6)
    return a.float(), (b / deviation).float(), (bias / deviation).float()


def fine_tune(params: tuple[torch.Tensor, ...], x: torch.Tensor, active: torch.Tensor, options: Options,
              seed: int) -> tuple[torch.Tensor, ...]:
    """Adam on BCE(score, active), positives weighted by negatives/positives."""
    params = tuple(p.clone().requires_grad_() for p in params)
    a, b, bias = params
    opt = torch.optim.Adam(params, lr=options.lr)
    positives = float(active.sum())
    pos_weight = torch.tensor((active.numel() - positives) / max(1.0, positives))
    generator = torch.Generator().manual_seed(seed)
    for _ in range(options.epochs):
        order = torch.randperm(len(x), generator=generator)
        for i in range(0, len(x), options.batch_tokens):
            pick = order[i:i + options.batch_tokens]
            loss = F.binary_cross_entropy_with_logits((x[pick] @ a) @ b + bias, active[pick].float(),
                                                      pos_weight=pos_weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return tuple(p.detach() for p in params)


@torch.no_grad()
def scores_of(p: PredictorLayer, x: torch.Tensor) -> torch.Tensor:
    """[tokens, ffnSize] f32 from the values as given (f16-rounded ones included)."""
    a, b, bias = (torch.from_numpy(np.asarray(m, np.float32)) for m in (p.a, p.b, p.bias))
    return (x @ a) @ b + bias


def choose_threshold(scores: torch.Tensor, active: torch.Tensor, recall: float) -> float:
    """The largest f32 threshold t (between two positives' scores) with share(score > t | active) ≥ recall."""
    positive = torch.sort(scores[active].double()).values
    if len(positive) == 0:
        raise ValueError("no active neuron in the calibration rows: nothing to calibrate a threshold on")
    missable = len(positive) - int(np.ceil(recall * len(positive) - 1e-9))   # positives allowed at or below t
    above = float(positive[missable])                                       # must stay > t
    below = float(positive[missable - 1]) if missable > 0 else above - max(1.0, abs(above))
    t = np.float32((below + above) / 2)
    if not t < np.float32(above):
        t = np.nextafter(np.float32(above), np.float32(-np.inf))
    return float(t)


def measure(scores: torch.Tensor, active: torch.Tensor, threshold: float) -> dict:
    predicted = scores > np.float32(threshold)
    hits, n_predicted = int((predicted & active).sum()), int(predicted.sum())
    return {"recall": hits / max(1, int(active.sum())), "precision": hits / max(1, n_predicted),
            "predictedActiveFraction": n_predicted / predicted.numel()}


def with_threshold(p: PredictorLayer, x: torch.Tensor, active: torch.Tensor, recall: float) -> PredictorLayer:
    t = choose_threshold(scores_of(p, x), active, min(1.0, recall + CALIBRATION_MARGIN))
    return PredictorLayer(a=p.a, b=p.b, bias=p.bias, threshold=t)


def as_stored(p: PredictorLayer, dtype: int) -> Optional[PredictorLayer]:
    """The values predictors.bin holds in `dtype`, widened to f32; None when one is not finite there."""
    values = [np.asarray(m, np.float32).astype(DTYPES[dtype]).astype(np.float32) for m in (p.a, p.b, p.bias)]
    if not all(np.isfinite(v).all() for v in values):
        return None
    return PredictorLayer(*values, threshold=p.threshold)


def macs_per_token(rank: int, predicted_fraction: float, mc: ModelConfig) -> float:
    """The rank's cost: the predictor, plus every predicted neuron's record (read and computed)."""
    record = (3 if mc.ffn_gated else 2) * mc.d_model
    return rank * (mc.d_model + mc.ffn_size) + predicted_fraction * mc.ffn_size * record


def fit_layer(w: torch.Tensor, fit_x: torch.Tensor, fit_active: torch.Tensor, cal_x: torch.Tensor,
              cal_active: torch.Tensor, mc: ModelConfig, options: Options, seed: int) -> tuple[PredictorLayer, list[dict]]:
    """The cheapest rank's f32 predictor (threshold from calibration) and every rank's calibration figures."""
    candidates = []
    for rank in sorted(set(min(r, mc.d_model) for r in options.ranks)):
        a, b, bias = fine_tune(low_rank_init(w, fit_x, rank), fit_x, fit_active, options, seed + rank)
        p = with_threshold(PredictorLayer(a.numpy(), b.numpy(), bias.numpy(), 0.0), cal_x, cal_active, options.recall)
        figures = measure(scores_of(p, cal_x), cal_active, p.threshold)
        cost = macs_per_token(rank, figures["predictedActiveFraction"], mc)
        candidates.append((cost, rank, p, {"rank": rank, **{k: round(v, 4) for k, v in figures.items()},
                                           "macsWithPredictedNeurons": round(cost)}))
    _, _, best, _ = min(candidates, key=lambda c: (c[0], c[1]))
    return best, [c[3] for c in candidates]


def gate_weight(model: CodeLm, l: int) -> torch.Tensor:
    """[ffnSize, d]: the matrix whose sign decides a neuron (the up projection when not gated)."""
    ffn = model.blocks[l].ffn
    return (ffn.gate if ffn.gate is not None else ffn.up).weight.detach()


def pick_rows(train_tokens: np.ndarray, heldout_tokens: np.ndarray, context: int,
              options: Options) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit rows (a seeded draw from train), then calibration and measurement rows: alternate ones of
    2 × heldout_rows spread evenly over the held-out stream, so both cover every part of it."""
    available = rows_of(train_tokens, context)
    fit = np.sort(np.random.default_rng(options.seed).choice(available, min(options.train_rows, available),
                                                             replace=False))
    total = rows_of(heldout_tokens, context)
    if total < 2:
        raise ValueError(f"held-out stream: {total} rows of {context + 1} tokens, at least 2 needed")
    spread = np.unique(np.linspace(0, total - 1, min(2 * options.heldout_rows, total)).astype(np.int64))
    return fit, spread[0::2], spread[1::2]


def train_predictors(model: CodeLm, train_tokens: np.ndarray, heldout_tokens: np.ndarray,
                     options: Options = Options()) -> dict:
    """Fits, calibrates and measures every layer's predictor. Returns `layers` (as stored), `dtype`,
    `measured` (per layer, on the measurement rows), `candidates` (per layer, calibration) and the rows used."""
    mc, context = model.c, model.c.context_tokens
    fit_rows, cal_rows, measure_rows = pick_rows(train_tokens, heldout_tokens, context, options)
    log(f"capturing FFN inputs: {len(fit_rows)} fit rows, {len(cal_rows)} calibration and {len(measure_rows)} "
        f"measurement rows × {context} tokens")
    fit, cal, held = (capture(model, train_tokens, fit_rows), capture(model, heldout_tokens, cal_rows),
                      capture(model, heldout_tokens, measure_rows))
    fitted, candidates = [], []
    for l in range(mc.layers):
        started = time.monotonic()
        p, tried = fit_layer(gate_weight(model, l), fit.x[l], fit.active[l], cal.x[l], cal.active[l], mc, options,
                             options.seed * 1000 + 100 * l)
        fitted.append(p)
        candidates.append(tried)
        log(f"layer {l}: rank {p.rank} ({time.monotonic() - started:.0f} s; " +
            ", ".join(f"r {c['rank']}: precision {c['precision']}" for c in tried) + ")")

    for dtype in (DTYPE_F16, DTYPE_F32):
        stored = [as_stored(p, dtype) for p in fitted]
        if any(s is None for s in stored):
            continue
        layers = [with_threshold(s, cal.x[l], cal.active[l], options.recall) for l, s in enumerate(stored)]
        measured = [measure(scores_of(p, held.x[l]), held.active[l], p.threshold) for l, p in enumerate(layers)]
        if all(m["recall"] >= options.recall for m in measured) or dtype == DTYPE_F32:
            break
        log(f"{DTYPE_NAMES[dtype]} misses recall {options.recall} in some layer: trying float32")
    truly_active = [int(a.sum()) / a.numel() for a in held.active]
    return {"layers": layers, "dtype": dtype, "measured": measured, "candidates": candidates,
            "trulyActiveFraction": truly_active, "fitRows": len(fit_rows), "calibrationRows": len(cal_rows),
            "measurementRows": len(measure_rows), "contextTokens": context}


def install(model_dir: Path, data: bytes, block: dict) -> dict:
    """Writes predictors.bin and the manifest with predictors.bin in `files` and the `predictors`
    block (after `sparsity`); everything else in the manifest stays as it was."""
    model_dir = Path(model_dir)
    manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    tmp = model_dir / ".predictors.bin.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, model_dir / block["file"])
    files = {**manifest["files"], block["file"]: file_entry(model_dir / block["file"])}
    updated = {k: v for k, v in manifest.items() if k not in ("predictors", "files")}
    updated["predictors"] = block
    updated["files"] = dict(sorted(files.items()))
    tmp = model_dir / ".manifest.json.tmp"
    tmp.write_text(json.dumps(updated, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, model_dir / "manifest.json")
    return updated


def stored_as(ckpt_rows: np.ndarray, stored_rows: np.ndarray, dtype: int) -> bool:
    """Whether stored_rows are ckpt_rows as an ffn.bin of `dtype` holds them: rounded exactly for f32
    and f16; for int8 (written by convert_ffn.py, possibly from a float16 file), within half a
    quantisation step of each row plus float16's rounding."""
    if dtype in DTYPES:
        return bool(np.array_equal(stored_rows, ckpt_rows.astype(DTYPES[dtype]).astype(np.float32)))
    step = np.max(np.abs(ckpt_rows), axis=1, keepdims=True) / 127
    return bool(np.all(np.abs(stored_rows - ckpt_rows) <= 0.5 * step * 1.01 + np.abs(ckpt_rows) * 2.0 ** -10))


def load_stored_model(config: dict, run: Path, model_dir: Path) -> CodeLm:
    """The checkpoint's model with the FFN weights read back from model_dir/ffn.bin, after checking
    that they are the checkpoint's, rounded as the file stores them."""
    verify_manifest_files(model_dir)
    ckpt = load_checkpoint(config, run)
    model = CodeLm(ModelConfig(**config["model"]))
    model.load_state_dict(ckpt["model"])
    model.eval()
    header, ffn = read_ffn_bin(model_dir / "ffn.bin")
    with torch.no_grad():
        for l, (block, stored) in enumerate(zip(model.blocks, ffn)):
            pairs = [(block.ffn.up, stored.w_up), (block.ffn.down, stored.w_down)]
            if block.ffn.gate is not None:
                pairs.append((block.ffn.gate, stored.w_gate))
            for lin, w in pairs:
                # A neuron's part is a row of gate/up and a column of down.
                transposed = lin is block.ffn.down
                ckpt = lin.weight.numpy()
                if w is None or w.shape != ckpt.shape or not stored_as(ckpt.T if transposed else ckpt,
                                                                       w.T if transposed else w, header.dtype):
                    raise StaleModelDirError(f"{model_dir}/ffn.bin layer {l} is not this checkpoint's FFN: "
                                             "export the checkpoint again (export_model.py) first")
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(w)))
    return model


def _display_path(path: Path) -> str:
    path = Path(path).resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def measured_on(result: dict, run: Path) -> str:
    n, context = result["measurementRows"], result["contextTokens"]
    return (f"torch forward pass (models/pipeline/train_predictors.py, FFN weights read from ffn.bin, predictors as "
            f"stored in {DTYPE_NAMES[result['dtype']]}) over {n} rows × {context} tokens of held-out code "
            f"({_display_path(run / 'heldout.u16')}: every other one of {2 * n} rows spread evenly over it; the other "
            f"{result['calibrationRows']} chose the thresholds and ranks); fitted on {result['fitRows']} rows × "
            f"{context} tokens of {_display_path(run / 'train.u16')}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=None, help=f"default {_display_path(DEFAULT_CONFIG)}")
    parser.add_argument("--model-dir", type=Path, default=None, help="default models/<modelId>")
    parser.add_argument("--run-dir", type=Path, default=None, help="default .cache/train/<run>")
    defaults = Options()
    parser.add_argument("--ranks", default=",".join(map(str, defaults.ranks)), help="candidate ranks, comma-separated")
    parser.add_argument("--recall", type=float, default=defaults.recall, help="per-layer recall to keep on held-out code")
    parser.add_argument("--train-rows", type=int, default=defaults.train_rows)
    parser.add_argument("--heldout-rows", type=int, default=defaults.heldout_rows, help="each of calibration and measurement")
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    args = parser.parse_args(argv)
    started = time.monotonic()
    torch.set_num_threads(2)
    torch.manual_seed(defaults.seed)
    config = read_config(args.config or DEFAULT_CONFIG)
    run = args.run_dir or run_dir(config)
    model_dir = args.model_dir or REPO / "models" / config["modelId"]
    ranks = tuple(int(r) for r in args.ranks.split(","))
    if min(ranks) < 1 or not 0 < args.recall <= 1:
        parser.error("ranks must be ≥ 1 and recall in (0, 1]")
    options = Options(ranks=ranks, recall=args.recall,
                      train_rows=args.train_rows, heldout_rows=args.heldout_rows, epochs=args.epochs)
    try:
        model = load_stored_model(config, run, model_dir)
    except CheckpointMismatchError as e:
        print(f"train_predictors: refused: {e}", file=sys.stderr)
        return 2
    except (StaleModelDirError, FileNotFoundError, ValueError) as e:
        print(f"train_predictors: failed: {e}", file=sys.stderr)
        return 1
    result = train_predictors(model, np.fromfile(run / "train.u16", dtype="<u2"),
                              np.fromfile(run / "heldout.u16", dtype="<u2"), options)
    layers, measured = result["layers"], result["measured"]
    block = predictors_manifest_entry(layers, [m["recall"] for m in measured], [m["precision"] for m in measured],
                                      [m["predictedActiveFraction"] for m in measured], measured_on(result, run))
    data = encode_predictors_bin(layers, result["dtype"])
    missed = [l for l, m in enumerate(measured) if m["recall"] < options.recall]
    report = {
        "modelDir": _display_path(model_dir), "dtype": DTYPE_NAMES[result["dtype"]], "bytes": len(data),
        "recallTarget": options.recall, "calibrationRecall": min(1.0, options.recall + CALIBRATION_MARGIN),
        "predictors": block,
        "perLayer": [{"trulyActiveFraction": round(f, 4), "candidates": c}
                     for f, c in zip(result["trulyActiveFraction"], result["candidates"])],
        "denseGateMacsPerToken": model.c.d_model * model.c.ffn_size,
        "options": {k: list(v) if isinstance(v, tuple) else v for k, v in vars(options).items()},
        "installed": not missed, "seconds": round(time.monotonic() - started, 1),
        "note": "candidates: per rank, calibration-row figures after fine-tuning; macsWithPredictedNeurons = "
                "d·r + r·ffnSize + predictedActiveFraction·ffnSize·record floats, the rank choice's cost",
    }
    if not missed:
        install(model_dir, data, block)
        log(f"wrote {_display_path(model_dir)}/predictors.bin ({len(data)} bytes) and manifest.json")
    (run / "predictors-report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n",
                                                encoding="utf-8")
    print(json.dumps(report, indent=1, ensure_ascii=False))
    if missed:
        print(f"train_predictors: failed: layers {missed} miss recall {options.recall} on the measurement rows; "
              "nothing written", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
