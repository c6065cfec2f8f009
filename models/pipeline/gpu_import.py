"""Brings a GPU run's results (gpu_train.py's --out) into the run directory, so the CPU stages that
follow (export_model.py, convert_ffn.py, train_predictors.py, plot_loss.py) read it as a train.py run:

- ckpt.pt: the float16 weights parts as float32 (no optimizer state: the run is finished), the step,
  checkpoint.identity of the config and this run directory's tokenizer.json, and the config;
- loss.jsonl: progress.jsonl with heldoutLoss as the mean over languages (plot_loss.py's field);
- heldout.u16: the held-out files as plain text + <|endoftext|>, in heldout.jsonl order (what the GPU
  run evaluated on; export_model.py's per-language figures need that order);
- train.u16: FIM examples from every k-th train file (gpu_data.py's cutting), --train-bytes of text,
  for train_predictors.py's fitting rows.

    python3 models/pipeline/gpu_import.py --config models/pipeline/configs/code-v2.json --from DIR
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

import gpu_data
from checkpoint import identity
from corpus_jsonl import read_jsonl
from fim import FimRates
from paths import CORPUS_DIR, read_config, run_dir


class ImportError_(Exception):
    """The results directory lacks what the import needs."""


def load_weights(src: Path, names: list[str]) -> dict[str, torch.Tensor]:
    state: dict[str, torch.Tensor] = {}
    for name in names:
        if not (src / name).is_file():
            raise ImportError_(f"{src / name} is missing: fetch every weights.<i>.pt result.json names")
        state.update({k: v.float() for k, v in torch.load(src / name, map_location="cpu").items()})
    return state


def write_stream(path: Path, streams_in_order: list[np.ndarray]) -> int:
    data = np.concatenate(streams_in_order) if streams_in_order else np.zeros(0, np.uint16)
    data.astype("<u2").tofile(path)
    return int(len(data))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", type=Path, default=None)
    ap.add_argument("--from", dest="src", type=Path, required=True)
    ap.add_argument("--train-bytes", type=int, default=12_000_000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    config = read_config(args.config)
    run = run_dir(config)
    result = json.loads((args.src / "result.json").read_text())
    if result["config"]["model"] != config["model"]:
        raise ImportError_(f"the GPU run trained model {result['config']['model']}, the config says {config['model']}")
    state = load_weights(args.src, result["weights"])
    torch.save({"model": state, "optimizer": None, "step": result["weightsStep"], "identity": identity(config, run),
                "config": config, "gpu": {k: result.get(k) for k in ("gpu", "training", "heldout", "attentionCheck")}},
               run / "ckpt.pt")
    with open(args.src / "progress.jsonl") as f, open(run / "loss.jsonl", "w") as out:
        for line in f:
            e = json.loads(line)
            if isinstance(e.get("heldoutLoss"), dict):
                e["heldoutLoss"] = round(float(np.mean(list(e["heldoutLoss"].values()))), 4)
            out.write(json.dumps(e) + "\n")
    d = config["data"]
    rates = FimRates(fim=d["fim"], spm=d["spm"], rest_of_line=d["restOfLine"], whole_lines=d["wholeLines"])
    tok = run / "tokenizer.json"
    heldout = list(read_jsonl(CORPUS_DIR / "heldout.jsonl"))
    parts = gpu_data.tokenize_docs(heldout, tok, args.workers, d["seed"], rates, d["chunkChars"], plain=True)
    held_tokens = write_stream(run / "heldout.u16", [ids for _, ids in parts])
    train_docs = list(read_jsonl(CORPUS_DIR / "train.jsonl"))
    total = sum(len(x["text"]) for x in train_docs)
    stride = max(1, total // args.train_bytes)
    streams = gpu_data.tokenize(train_docs[::stride], tok, args.workers, d["seed"], rates, d["chunkChars"])
    train_tokens = write_stream(run / "train.u16", [streams[k] for k in sorted(streams)])
    rng = np.random.default_rng(d["seed"])
    arr = np.fromfile(run / "train.u16", dtype="<u2")
    rows = (len(arr) - 1) // 512  # train_predictors reads rows at random: shuffle whole 512-token rows
    arr[: rows * 512].reshape(rows, 512)[:] = arr[: rows * 512].reshape(rows, 512)[rng.permutation(rows)]
    arr.tofile(run / "train.u16")
    print(json.dumps({"step": result["weightsStep"], "heldoutTokens": held_tokens, "trainTokens": train_tokens, "run": str(run)}))


if __name__ == "__main__":
    main()
