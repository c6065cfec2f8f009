"""Evaluation inside the GPU run (gpu_train.py): held-out loss per language, FFN sparsity, and a
greedy single-line FIM check on the PyTorch model. The figures that decide shipping come later from
the engine (`npm run -s eval`); these say, within the same command, whether the run learnt.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import bpe
import gpu_data
from fim import EOT, FILE_SEP, MID, PRE, SUF


def heldout_rows(streams: dict[str, np.ndarray], context: int, rows: int, device) -> dict[str, torch.Tensor]:
    """Per language, `rows` windows of context + 1 tokens evenly spread over its held-out stream."""
    out = {}
    for lang, toks in streams.items():
        n = (len(toks) - 1) // context
        if n < 1:
            continue
        picks = np.linspace(0, n - 1, min(rows, n)).astype(np.int64)
        out[lang] = torch.from_numpy(np.stack([toks[r * context: r * context + context + 1] for r in picks]).astype(np.int64)).to(device)
    return out


@torch.no_grad()
def _loss_and_zeros(model, ids: torch.Tensor, amp) -> tuple[float, list[float]]:
    losses, zeros = [], []
    for i in range(0, len(ids), 4):
        with amp:
            logits, acts = model(ids[i:i + 4, :-1])
        losses.append(float(F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), ids[i:i + 4, 1:].reshape(-1))))
        zeros.append([float((a == 0).float().mean()) for a in acts])
    return float(np.mean(losses)), np.mean(np.array(zeros), axis=0).tolist()


def heldout_loss(model, rows: dict[str, torch.Tensor], amp) -> dict[str, float]:
    model.eval()
    out = {lang: round(_loss_and_zeros(model, ids, amp)[0], 4) for lang, ids in rows.items()}
    model.train()
    return out


def final_eval(model, rows: dict[str, torch.Tensor], amp) -> dict:
    model.eval()
    per = {lang: _loss_and_zeros(model, ids, amp) for lang, ids in rows.items()}
    model.train()
    sparsity = np.mean([z for _, z in per.values()], axis=0)
    return {"loss": {lang: round(l, 4) for lang, (l, _) in per.items()},
            "sparsityPerLayer": [round(float(s), 4) for s in sparsity], "meanSparsity": round(float(sparsity.mean()), 4),
            "rowsPerLanguage": {lang: int(len(ids)) for lang, ids in rows.items()}}


@torch.no_grad()
def fim_check(model, tokenizer_path: Path, tasks_path: Path, config: dict, amp, device, seconds: float) -> dict:
    """Greedy completion of the single-line tasks with the SPM prompt (FORMAT.md fim.order "spm"),
    prefix and suffix cut to the config's fimCheck sizes; exact match of the first line, stripped."""
    doc = json.loads(tokenizer_path.read_text(encoding="utf-8"))
    tok = bpe.ByteLevelBpe.from_tokenizer_json(doc)
    try:
        hf = gpu_data.hf_ordinary(doc)
        encode = lambda s: hf.encode(s, add_special_tokens=False).ids
    except ImportError:
        encode = tok.encode_ordinary
    sp = tok.special
    stops = {sp[EOT], sp[FILE_SEP]}
    c = config["fimCheck"]
    tasks = [json.loads(l) for l in tasks_path.read_text(encoding="utf-8").splitlines() if l.strip()]
    tasks = [t for t in tasks if t["kind"] == "single-line"][:c.get("maxTasks", 10 ** 9)]
    model.eval()
    t0, results = time.time(), []
    for task in tasks:
        if time.time() - t0 > seconds:
            break
        ids = [sp[PRE], sp[SUF]] + encode(task["suffix"][:c["suffixChars"]]) + [sp[MID]] + encode(task["prefix"][-c["prefixChars"]:])
        out: list[int] = []
        for _ in range(c["maxNewTokens"]):
            x = torch.tensor([ids + out], device=device)
            with amp:
                logits = model(x)[0][0, -1].float()
            logits[[sp[PRE], sp[SUF], sp[MID]]] = -1e9
            nxt = int(logits.argmax())
            if nxt in stops:
                break
            out.append(nxt)
            if b"\n" in tok.token_bytes(nxt) and tok.decode(out).strip():
                break
        text = tok.decode(out)
        line = text.strip().split("\n")[0].strip() if text.strip() else ""
        results.append({"id": task["id"], "language": task["language"], "got": line, "exact": line == task["expected"].strip()})
    model.train()
    by_lang: dict[str, list[bool]] = {}
    for r in results:
        by_lang.setdefault(r["language"], []).append(r["exact"])
    summary = {"tasks": len(results), "of": len(tasks), "exact": round(float(np.mean([r["exact"] for r in results])) if results else 0.0, 4),
               "perLanguage": {l: round(float(np.mean(v)), 4) for l, v in sorted(by_lang.items())},
               "seconds": round(time.time() - t0, 1)}
    return {"summary": summary, "results": results}
