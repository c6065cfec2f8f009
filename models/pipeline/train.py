"""Trains the code model (lm.py) on the token stream of prepare_data.py, on CPU.

    /usr/bin/python3 models/pipeline/train.py [--config models/pipeline/configs/code-v1.json]

Resumable: a checkpoint (.cache/train/<run>/ckpt.pt) is written every checkpointEvery steps, on
Ctrl-C/SIGTERM and at the end; rerunning the command continues from it. A checkpoint whose model,
data or tokenizer differ from the config is refused, with the differing fields named. Deterministic:
the row order is a seeded permutation indexed by step, so a resumed run reads what an uninterrupted
one would. Logs one JSON line per logged step to loss.jsonl.

Loss = next-token cross-entropy + λ(step) · Σ_layers mean(FFN activation): an L1 penalty on the
ReLU'd gate that pushes neurons to exact zero (activation sparsity for the flash engine); λ ramps up
linearly over sparsityWarmupSteps.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from checkpoint import batch, check_identity, identity, rows_of
from lm import CodeLm, ModelConfig
from paths import read_config, run_dir


def lr_at(step: int, t: dict) -> float:
    """Linear warm-up, then cosine down to minLrRatio · lr, over each cycle. The first cycle starts at
    step 0; each entry of the optional `restarts` ([{"at": step, "lrScale": s}], ascending) starts
    another that warms up from the floor to s · lr and decays to the floor again by its end (the next
    restart, or `steps`). Without restarts one cycle spans all `steps`, as before restarts existed."""
    floor = t["lr"] * t["minLrRatio"]
    starts = [(0, 1.0)] + [(r["at"], r["lrScale"]) for r in t.get("restarts", [])]
    k = max(i for i, (at, _) in enumerate(starts) if at <= step)
    start, peak = starts[k][0], t["lr"] * starts[k][1]
    end = starts[k + 1][0] if k + 1 < len(starts) else t["steps"]
    local = step - start
    if local < t["warmupSteps"]:
        base = 0.0 if k == 0 else floor
        return base + (peak - base) * (local + 1) / t["warmupSteps"]
    progress = (local - t["warmupSteps"]) / max(1, end - start - t["warmupSteps"])
    return floor + (peak - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def loss_terms(model: CodeLm, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[float]]:
    logits, acts = model(ids[:, :-1])
    lm = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
    l1 = torch.stack([a.mean() for a in acts]).sum()
    zeros = [float((a == 0).float().mean()) for a in acts]
    return lm, l1, zeros


@torch.no_grad()
def heldout_loss(model: CodeLm, tokens: np.ndarray, context: int, rows: int) -> float:
    model.eval()
    picks = np.linspace(0, rows_of(tokens, context) - 1, rows).astype(np.int64)
    losses = [float(loss_terms(model, batch(tokens, picks[i:i + 8], context))[0]) for i in range(0, rows, 8)]
    model.train()
    return float(np.mean(losses))


def save_checkpoint(path: Path, model, opt, step: int, ident: dict, config: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                "identity": ident, "config": config}, tmp)
    os.replace(tmp, path)


def train(config: dict, out: Path, stop_after: int | None = None) -> int:
    """Trains the run in `out` (tokenizer.json, train.u16, heldout.u16; ckpt.pt and loss.jsonl are
    written there) as `config` says, resuming from out/ckpt.pt when it exists; returns the last step.
    stop_after: stop (with a checkpoint) after this step."""
    t = config["train"]
    torch.set_num_threads(t["threads"])
    torch.manual_seed(t["seed"])

    mc = ModelConfig(**config["model"])
    context = mc.context_tokens
    train_tokens = np.fromfile(out / "train.u16", dtype="<u2")
    heldout_tokens = np.fromfile(out / "heldout.u16", dtype="<u2")
    order = np.random.default_rng(t["seed"]).permutation(rows_of(train_tokens, context))

    model = CodeLm(mc)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": t["weightDecay"]}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=t["lr"], betas=(0.9, 0.95))
    ident = identity(config, out)
    ckpt_path = out / "ckpt.pt"
    step = 0
    if ckpt_path.exists():
        ckpt = torch.load(ckpt_path)
        check_identity(ckpt["identity"], ident)
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        step = ckpt["step"]
        print(f"resuming from step {step}", flush=True)

    stop = {"now": False}
    previous_sigterm = signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    log = open(out / "loss.jsonl", "a")
    counts = model.parameter_count()
    print(json.dumps({"parameters": counts, "trainRows": len(order), "heldoutTokens": len(heldout_tokens)}), flush=True)
    t_start, tokens_per_step = time.time(), t["batchRows"] * context
    try:
        while step < t["steps"] and not stop["now"]:
            lr = lr_at(step, t)
            for g in opt.param_groups:
                g["lr"] = lr
            lam = t["sparsityL1"] * min(1.0, step / max(1, t["sparsityWarmupSteps"]))
            rows = order[(np.arange(t["batchRows"]) + step * t["batchRows"]) % len(order)]
            lm, l1, zeros = loss_terms(model, batch(train_tokens, rows, context))
            opt.zero_grad(set_to_none=True)
            (lm + lam * l1).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), t["gradClip"])
            opt.step()
            step += 1
            if step % 10 == 0 or step == t["steps"]:
                entry = {"step": step, "tokens": step * tokens_per_step, "loss": round(float(lm), 4),
                         "l1": round(float(l1), 4), "lambda": lam, "lr": lr, "sparsity": [round(z, 4) for z in zeros],
                         "seconds": round(time.time() - t_start, 1)}
                if step % t["evalEvery"] == 0 or step == t["steps"]:
                    entry["heldoutLoss"] = round(heldout_loss(model, heldout_tokens, context, t["evalRows"]), 4)
                log.write(json.dumps(entry) + "\n")
                log.flush()
                print(json.dumps(entry), flush=True)
            if step % t["checkpointEvery"] == 0 or step == t["steps"] or step == stop_after:
                save_checkpoint(ckpt_path, model, opt, step, ident, config)
            if stop_after is not None and step >= stop_after:
                break
    except KeyboardInterrupt:
        stop["now"] = True
    finally:
        log.close()
    if stop["now"]:
        save_checkpoint(ckpt_path, model, opt, step, ident, config)
        print(f"interrupted: checkpoint at step {step}; rerun to resume", flush=True)
    signal.signal(signal.SIGTERM, previous_sigterm)  # the caller's handler again (tests call train() in-process)
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--stop-after", type=int, default=None, help="stop (with a checkpoint) after this step; for tests")
    args = parser.parse_args()
    config = read_config(args.config)
    train(config, run_dir(config), args.stop_after)


if __name__ == "__main__":
    main()
