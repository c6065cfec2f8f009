"""Cross-check of FIM quality outside the TypeScript prompt path: the PyTorch model of a run's
checkpoint, greedy, on the single-line tasks of a task file, with the plain PSM prompt
(<pre> last 360 prefix tokens <suf> first 110 suffix tokens <mid>), first line compared.

    /usr/bin/python3 models/pipeline/eval_fim_torch.py [--config ...] [--every 5] [--show]

Prints {"tasks", "exactMatch"}. Slow (no KV cache): use --every to sample.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

import bpe
from lm import CodeLm, ModelConfig
from paths import REPO, read_config, run_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--tasks", type=Path, default=REPO / "models" / "eval" / "heldout-fim.jsonl")
    parser.add_argument("--every", type=int, default=5, help="use every n-th single-line task")
    parser.add_argument("--show", action="store_true", help="print expected | got per task to stderr")
    args = parser.parse_args()
    config = read_config(args.config)
    out = run_dir(config)
    torch.set_num_threads(config["train"]["threads"])
    model = CodeLm(ModelConfig(**config["model"]))
    model.load_state_dict(torch.load(out / "ckpt.pt")["model"])
    model.eval()
    tok = bpe.ByteLevelBpe.from_tokenizer_json(json.loads((out / "tokenizer.json").read_text(encoding="utf-8")))
    s = tok.special
    stops = {s["<|endoftext|>"], s["<|file_sep|>"]}
    tasks = [json.loads(line) for line in args.tasks.read_text(encoding="utf-8").splitlines() if line.strip()]
    tasks = [t for t in tasks if "\n" not in t["expected"].strip()][::args.every]
    exact = 0
    for t in tasks:
        ids = ([s["<|fim_prefix|>"]] + tok.encode_ordinary(t["prefix"])[-360:] + [s["<|fim_suffix|>"]]
               + tok.encode_ordinary(t["suffix"])[:110] + [s["<|fim_middle|>"]])
        got: list[int] = []
        with torch.no_grad():
            for _ in range(40):
                nxt = int(model(torch.tensor([ids + got]))[0][0, -1].argmax())
                if nxt in stops:
                    break
                got.append(nxt)
                if "\n" in tok.decode(got):
                    break
        line = tok.decode(got).split("\n")[0].strip()
        exact += line == t["expected"].strip()
        if args.show:
            print(f"{t['expected'][:60]!r} | {line[:60]!r}", file=__import__("sys").stderr)
    print(json.dumps({"tasks": len(tasks), "exactMatch": round(exact / max(1, len(tasks)), 4)}))


if __name__ == "__main__":
    main()
