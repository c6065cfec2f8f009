"""A training run's checkpoint: what it must agree with (the config's model, data, tokenizer, seed,
batch rows) to be resumed or exported, loading it with that check, and the token rows it trains on.
Shared by train.py, export_model.py, train_predictors.py and gpu_import.py."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Optional

import numpy as np
import torch


class CheckpointMismatchError(Exception):
    pass


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def identity(config: dict, out: Path) -> dict:
    """What a checkpoint must agree with to be resumed or exported."""
    return {"model": config["model"], "data": config["data"], "tokenizerSha256": sha256(out / "tokenizer.json"),
            "trainSeed": config["train"]["seed"], "batchRows": config["train"]["batchRows"]}


def check_identity(saved: dict, wanted: dict) -> None:
    diffs = [k for k in wanted if saved.get(k) != wanted[k]]
    if diffs:
        detail = "; ".join(f"{k}: checkpoint {saved.get(k)!r} ≠ config {wanted[k]!r}" for k in diffs)
        raise CheckpointMismatchError(
            f"the checkpoint was trained with a different {', '.join(diffs)} ({detail}). "
            "Use the config it was trained with, or delete the run directory to start over.")


def _field_diffs(saved, wanted, prefix: str = "") -> list[str]:
    """'model.d_model: checkpoint 32 ≠ config 48' for every leaf that differs."""
    if isinstance(saved, dict) and isinstance(wanted, dict):
        return [d for k in sorted(set(saved) | set(wanted), key=str)
                for d in _field_diffs(saved.get(k), wanted.get(k), f"{prefix}.{k}" if prefix else str(k))]
    return [] if saved == wanted else [f"{prefix}: checkpoint {saved!r} ≠ config {wanted!r}"]


def load_checkpoint(config: dict, run: Path, checkpoint: Optional[Path] = None) -> dict:
    """torch.load of the checkpoint, after check_identity against the config and the run's
    tokenizer.json; CheckpointMismatchError names the differing fields."""
    path = Path(checkpoint or run / "ckpt.pt")
    for needed in (path, run / "tokenizer.json"):
        if not needed.exists():
            raise FileNotFoundError(f"{needed} does not exist (train the model first: models/pipeline/train.py)")
    ckpt = torch.load(path, map_location="cpu")
    wanted = identity(config, run)
    try:
        check_identity(ckpt["identity"], wanted)
    except CheckpointMismatchError:
        diffs = "; ".join(_field_diffs(ckpt["identity"], wanted))
        raise CheckpointMismatchError(
            f"{path} does not match the config: {diffs}. Export it with the config it was trained with, "
            f"and the run directory's tokenizer.json it was trained with.") from None
    return ckpt


def rows_of(tokens: np.ndarray, context: int) -> int:
    return (len(tokens) - 1) // context


def batch(tokens: np.ndarray, rows: np.ndarray, context: int) -> torch.Tensor:
    """[B, context + 1] int64: each row's tokens and the one after (the target of the last)."""
    return torch.from_numpy(np.stack([tokens[r * context: r * context + context + 1] for r in rows]).astype(np.int64))
