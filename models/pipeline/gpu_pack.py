"""Packs what the GPU run needs into one folder that travels to the GPU machine (≤ 64 MiB per call
with the checkout): the pipeline's sources, the inputs gpu_train.py reads, run.sh, and manifest.json
(sha256 and bytes of every input, so the run's corpus is pinned).

    python3 models/pipeline/gpu_pack.py --config models/pipeline/configs/code-v2.json --dest DIR

Reads the run's tokenizer.json (train_tokenizer_hf.py), .cache/corpus/{train,heldout}.jsonl
(clean_corpus.py) and models/eval/heldout-fim.jsonl. On the GPU machine: `bash DIR/run.sh` with $OUT set.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import shutil
from pathlib import Path

from paths import CORPUS_DIR, REPO, read_config, run_dir

PIPELINE = Path(__file__).resolve().parent
RUN_SH = """#!/usr/bin/env bash
# The GPU side of a training run in one command (models/pipeline/gpu_train.py); results land in $OUT.
set -uo pipefail
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
cd "$(dirname "$0")"
: "${OUT:?set OUT to the folder that comes back}"
date -u; nvidia-smi --query-gpu=name,memory.used,memory.total,clocks.sm,temperature.gpu --format=csv
python3 -c 'import torch, tokenizers; print("torch", torch.__version__, "tokenizers", tokenizers.__version__, "cuda", torch.cuda.is_available())'
python3 pipeline/gpu_train.py --config pipeline/configs/CONFIG --inputs inputs --out "$OUT" "$@"
"""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", type=Path, required=True)
    ap.add_argument("--dest", type=Path, required=True)
    args = ap.parse_args()
    config = read_config(args.config)
    dest = args.dest
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "pipeline" / "configs").mkdir(parents=True)
    (dest / "inputs").mkdir()
    for py in PIPELINE.glob("*.py"):
        shutil.copy2(py, dest / "pipeline" / py.name)
    shutil.copy2(args.config, dest / "pipeline" / "configs" / args.config.name)
    shutil.copy2(run_dir(config) / "tokenizer.json", dest / "inputs" / "tokenizer.json")
    shutil.copy2(REPO / "models" / "eval" / "heldout-fim.jsonl", dest / "inputs" / "fim-tasks.jsonl")
    for name in ("train", "heldout"):
        with open(CORPUS_DIR / f"{name}.jsonl", "rb") as src, lzma.open(dest / "inputs" / f"{'corpus' if name == 'train' else name}.jsonl.xz", "wb", preset=9) as out:
            shutil.copyfileobj(src, out, 1 << 20)
    (dest / "run.sh").write_text(RUN_SH.replace("CONFIG", args.config.name))
    inputs = {p.name: {"bytes": p.stat().st_size, "sha256": sha256(p)} for p in sorted((dest / "inputs").iterdir())}
    sources = {f"{name}.jsonl": sha256(CORPUS_DIR / f"{name}.jsonl") for name in ("train", "heldout")}
    (dest / "manifest.json").write_text(json.dumps({"config": args.config.name, "inputs": inputs, "corpusSha256": sources}, indent=1) + "\n")
    print(json.dumps({"dest": str(dest), "bytes": sum(p.stat().st_size for p in dest.rglob("*") if p.is_file()), "inputs": inputs}))


if __name__ == "__main__":
    main()
