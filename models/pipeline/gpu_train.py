"""The whole GPU side of a training run, in one command: check the GPU, build the data there
(gpu_data.py), train for a wall-clock box, evaluate, and write results to --out as it goes, so that a
run stopped at its time limit still brings back its last weights.

    python3 gpu_train.py --config configs/code-v2.json --inputs DIR --out DIR      # on the GPU machine
    /usr/bin/python3 models/pipeline/gpu_train.py --dry-run --inputs DIR --out DIR  # CPU, tiny, seconds

--inputs holds tokenizer.json, corpus.jsonl.xz (train split of clean_corpus.py), heldout.jsonl.xz and
fim-tasks.jsonl (models/eval/heldout-fim.jsonl). --out receives progress.jsonl (one line per logged
step), weights.<i>.pt (the model's state dict in float16, in parts of at most 15 MiB: what may come
back from the GPU machine is 8 files of 16 MiB) and result.json (config, data, sources, timings,
held-out loss per language, FFN sparsity, the single-line FIM check). gpu_import.py turns the weights
into a checkpoint export_model.py reads. --dry-run runs the same code on the CPU with the config's
`dryRun` overrides (tiny model, seconds, a few machine files): tests/test_gpu_train.py calls it.

Training: the config's model with "sdpa" attention where torch has it (else "explicit"; the check at
the start compares the two), bf16 autocast, fused AdamW on CUDA, loss = cross-entropy + λ · Σ mean FFN
activation (λ ramped up, as train.py). The learning rate is a function of elapsed time: linear warm-up
over train.warmupSeconds, then cosine down to minLrRatio · lr at the end of train.minutes (or of
train.maxSteps, where given and reached first: the dry run's steps do not depend on the CPU's speed).
"""
from __future__ import annotations

import argparse
import json
import lzma
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gpu_data  # noqa: E402
import gpu_eval  # noqa: E402
from fim import FimRates  # noqa: E402
from lm import CodeLm, ModelConfig  # noqa: E402

PART_BYTES = 15 << 20


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def read_jsonl_xz(path: Path) -> list[dict]:
    with lzma.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def merge(base: dict, over: dict) -> dict:
    return {k: (merge(base[k], over[k]) if isinstance(base.get(k), dict) and isinstance(over.get(k), dict) else over.get(k, base.get(k)))
            for k in {**base, **over}}


def gpu_report(device: torch.device) -> dict:
    if device.type != "cuda":
        return {"device": "cpu", "torch": torch.__version__}
    smi = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version,clocks.sm", "--format=csv,noheader"],
                         capture_output=True, text=True)
    return {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "nvidiaSmi": smi.stdout.strip()}


def save_weights(model: CodeLm, out: Path) -> list[str]:
    """The state dict in float16, split by tensor into files of at most PART_BYTES."""
    parts, current, size = [], {}, 0
    for name, t in model.state_dict().items():
        t = t.detach().to("cpu", torch.float16).contiguous()
        if current and size + t.numel() * 2 > PART_BYTES:
            parts.append(current)
            current, size = {}, 0
        current[name] = t
        size += t.numel() * 2
    parts.append(current)
    names = []
    for i, part in enumerate(parts):
        tmp = out / f".weights.{i}.tmp"
        torch.save(part, tmp)
        os.replace(tmp, out / f"weights.{i}.pt")
        names.append(f"weights.{i}.pt")
    return names


def attention_check(model: CodeLm, mc: ModelConfig, device: torch.device) -> dict:
    """Max |logits| difference between the sdpa and explicit attention on random ids (float32)."""
    if model.blocks[0].attn.kind != "sdpa":
        return {"attention": "explicit", "note": f"torch {torch.__version__} has no scaled_dot_product_attention"}
    explicit = CodeLm(mc, attention="explicit").to(device)
    explicit.load_state_dict(model.state_dict())
    ids = torch.randint(0, mc.vocab, (2, min(256, mc.context_tokens)), device=device)
    with torch.no_grad():
        a, b = model(ids)[0].float(), explicit(ids)[0].float()
    diff = float((a - b).abs().max())
    if diff > 1e-3:
        raise SystemExit(f"sdpa and explicit attention disagree by {diff} on the same weights: fix lm.Attention before training")
    return {"attention": "sdpa", "maxAbsLogitDiffVsExplicit": diff}


class Sampler:
    """Random windows of context + 1 tokens, each from a language drawn by the mix weights."""

    def __init__(self, streams: dict[str, np.ndarray], mix: dict[str, float], context: int, device, seed: int):
        self.langs = [l for l in sorted(mix) if l in streams and len(streams[l]) > context + 1]
        w = np.array([mix[l] for l in self.langs], dtype=np.float64)
        self.p = torch.tensor(w / w.sum(), device=device)
        self.tokens = [torch.from_numpy(streams[l].astype(np.int32)).to(device) for l in self.langs]
        self.context, self.device = context, device
        self.g = torch.Generator(device=device).manual_seed(seed)
        self.span = torch.arange(context + 1, device=device)

    def batch(self, rows: int) -> torch.Tensor:
        which = torch.multinomial(self.p, rows, replacement=True, generator=self.g)
        out = torch.empty(rows, self.context + 1, dtype=torch.long, device=self.device)
        for i, toks in enumerate(self.tokens):
            sel = (which == i).nonzero().flatten()
            if len(sel):
                starts = torch.randint(0, len(toks) - self.context - 1, (len(sel),), device=self.device, generator=self.g)
                out[sel] = toks[starts[:, None] + self.span].long()
        return out


def lr_at(seconds: float, t: dict) -> float:
    box, warm = t["minutes"] * 60, t["warmupSeconds"]
    floor = t["lr"] * t["minLrRatio"]
    if seconds < warm:
        return t["lr"] * max(0.01, seconds / warm)
    progress = min(1.0, (seconds - warm) / max(1e-6, box - warm))
    return floor + (t["lr"] - floor) * 0.5 * (1 + np.cos(np.pi * progress))


def build_data(config: dict, inputs: Path, workers: int, dry: bool) -> tuple[dict, dict, dict]:
    d = config["data"]
    rates = FimRates(fim=d["fim"], spm=d["spm"], rest_of_line=d["restOfLine"], whole_lines=d["wholeLines"])
    carried = read_jsonl_xz(inputs / "corpus.jsonl.xz")
    heldout = read_jsonl_xz(inputs / "heldout.jsonl.xz")
    if dry:
        carried, heldout = carried[:config["dryRun"]["carriedFiles"]], heldout[:6]
    seen = {gpu_data.content_hash(x["text"]) for x in carried + heldout}
    heldout_names = {p.split(":", 1)[1].rsplit("@", 1)[0].removeprefix("python3-") for p in {x["package"] for x in heldout}}
    t0 = time.time()
    machine, sources, skipped = gpu_data.machine_python(seen, heldout_names, workers, config["dryRun"]["machineFiles"] if dry else None)
    log(f"machine python: {len(machine)} files from {len(sources)} sources ({time.time() - t0:.1f} s); refused {len(skipped['refused'])}")
    tok = inputs / "tokenizer.json"
    train = gpu_data.tokenize(carried + machine, tok, workers, d["seed"], rates, d["chunkChars"])
    held = gpu_data.tokenize(heldout, tok, workers, d["seed"], rates, d["chunkChars"], plain=True)
    stats = {"trainTokens": {l: int(len(a)) for l, a in train.items()}, "heldoutTokens": {l: int(len(a)) for l, a in held.items()},
             "carriedFiles": len(carried), "machineFiles": len(machine), "seconds": round(time.time() - t0, 1)}
    return train, held, {"stats": stats, "machineSources": sources, "machineSkipped": skipped}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", type=Path, default=Path(__file__).resolve().parent / "configs" / "code-v2.json")
    ap.add_argument("--inputs", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--workers", type=int, default=min(16, os.cpu_count() or 1))
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--deadline-seconds", type=float, default=None,
                    help="end training early enough that the whole command, evaluation included, ends within this "
                         "many seconds of its start (the GPU machine's per-command limit)")
    args = ap.parse_args()
    started = time.time()
    config = json.loads(args.config.read_text())
    if args.dry_run:
        config = merge(config, {k: v for k, v in config["dryRun"].items() if k in ("model", "train", "fimCheck")})
    args.out.mkdir(parents=True, exist_ok=True)
    device = torch.device("cuda" if torch.cuda.is_available() and not args.dry_run else "cpu")
    result = {"config": config, "gpu": gpu_report(device), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    log(json.dumps(result["gpu"]))
    write = lambda: (args.out / "result.json").write_text(json.dumps(result, indent=1) + "\n")

    train_streams, held_streams, data = build_data(config, args.inputs, args.workers, args.dry_run)
    result["data"] = data
    log(json.dumps(data["stats"]))
    write()

    t = config["train"]
    torch.manual_seed(t["seed"])
    mc = ModelConfig(**config["model"])
    attention = "sdpa" if hasattr(F, "scaled_dot_product_attention") else "explicit"
    model = CodeLm(mc, attention=attention).to(device)
    result["attentionCheck"] = attention_check(model, mc, device)
    result["parameters"] = model.parameter_count()
    log(json.dumps({"attentionCheck": result["attentionCheck"], "parameters": result["parameters"]}))
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    fused = {"fused": True} if device.type == "cuda" else {}
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": t["weightDecay"]}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=t["lr"], betas=(0.9, 0.95), **fused)
    sampler = Sampler(train_streams, config["data"]["mix"], mc.context_tokens, device, t["seed"])
    held_rows = gpu_eval.heldout_rows(held_streams, mc.context_tokens, t["evalRows"], device)
    amp = torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    progress = open(args.out / "progress.jsonl", "w")
    box = t["minutes"] * 60
    if args.deadline_seconds is not None:  # keep room for the final save, held-out eval and FIM check
        box = min(box, args.deadline_seconds - (time.time() - started) - t["fimCheckSeconds"] - t["finalReserveSeconds"])
        if box < 30:
            raise SystemExit(f"only {box:.0f} s left for training before the deadline: raise --deadline-seconds")
        t = {**t, "minutes": box / 60}
    result["trainBoxSeconds"] = round(box, 1)
    log(f"training for {box:.0f} s")
    step, tokens, t0 = 0, 0, time.time()
    last_eval = last_ckpt = t0
    while True:
        # the schedule's clock: wall time, or the share of train.maxSteps done where that is further
        # (the dry run sets maxSteps so that its steps do not depend on the machine's speed)
        elapsed = max(time.time() - t0, box * step / t["maxSteps"] if t.get("maxSteps") else 0.0)
        if elapsed >= box:
            break
        lr = lr_at(elapsed, t)
        for g in opt.param_groups:
            g["lr"] = lr
        lam = t["sparsityL1"] * min(1.0, elapsed / (box * t["sparsityWarmupFraction"]))
        ids = sampler.batch(t["batchRows"])
        with amp:
            logits, acts = model(ids[:, :-1])
            lm = F.cross_entropy(logits.float().reshape(-1, mc.vocab), ids[:, 1:].reshape(-1))
            l1 = torch.stack([a.float().mean() for a in acts]).sum()
        opt.zero_grad(set_to_none=True)
        (lm + lam * l1).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), t["gradClip"])
        opt.step()
        step += 1
        tokens += ids.shape[0] * mc.context_tokens
        if step % t["logEvery"] == 0:
            now = time.time()
            entry = {"step": step, "tokens": tokens, "seconds": round(now - t0, 1), "loss": round(float(lm.detach()), 4),
                     "l1": round(float(l1.detach()), 4), "lambda": round(lam, 5), "lr": round(lr, 6),
                     "sparsity": [round(float((a == 0).float().mean()), 4) for a in acts],
                     "tokensPerSecond": round(tokens / (now - t0))}
            if now - last_eval >= t["evalEverySeconds"]:
                entry["heldoutLoss"] = gpu_eval.heldout_loss(model, held_rows, amp)
                last_eval = now
            progress.write(json.dumps(entry) + "\n")
            progress.flush()
            log(json.dumps(entry))
            if now - last_ckpt >= t["checkpointEverySeconds"]:
                result["weights"] = save_weights(model, args.out)
                result["weightsStep"] = step
                write()
                last_ckpt = time.time()
    progress.close()
    result["training"] = {"steps": step, "tokens": tokens, "seconds": round(time.time() - t0, 1),
                          "tokensPerSecond": round(tokens / (time.time() - t0))}
    result["weights"], result["weightsStep"] = save_weights(model, args.out), step
    write()
    log(json.dumps(result["training"]))
    result["heldout"] = gpu_eval.final_eval(model, held_rows, amp)
    write()
    log(json.dumps(result["heldout"]))
    result["fimCheck"] = gpu_eval.fim_check(model, args.inputs / "tokenizer.json", args.inputs / "fim-tasks.jsonl",
                                            config, amp, device, t["fimCheckSeconds"])
    write()
    log(json.dumps(result["fimCheck"]["summary"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
