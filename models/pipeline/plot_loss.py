"""Plots a training run: train and held-out loss against tokens seen, and the FFN activation sparsity.

    /usr/bin/python3 models/pipeline/plot_loss.py [--config models/pipeline/configs/code-v1.json]
        [--run-dir .cache/train/<run>] [--out models/<modelId>/loss.png]

Reads <run dir>/loss.jsonl (train.py: one line per logged step, {step, tokens, loss, heldoutLoss?,
sparsity: [per layer], ...}). A resumed run logs again the steps after its last checkpoint: the last
entry of each step wins. A line cut short by a crash is skipped. Writes a PNG (matplotlib, Agg).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

from paths import DEFAULT_CONFIG, REPO, read_config, run_dir  # noqa: E402


def read_log(path: Path) -> tuple[list[dict], int]:
    """The entries of loss.jsonl in step order, the last one of each step; and how many lines were unreadable."""
    by_step: dict[int, dict] = {}
    bad = 0
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            by_step[int(entry["step"])] = entry
        except (ValueError, KeyError, TypeError):
            bad += 1
    return [by_step[s] for s in sorted(by_step)], bad


def plot(entries: list[dict], out: Path, title: str) -> None:
    if not entries:
        raise ValueError("no entries to plot")
    millions = lambda es: [e["tokens"] / 1e6 for e in es]
    fig, (ax_loss, ax_sparse) = plt.subplots(2, 1, figsize=(8, 7), sharex=True,
                                             gridspec_kw={"height_ratios": [3, 2]})
    ax_loss.plot(millions(entries), [e["loss"] for e in entries], lw=0.8, color="tab:blue", alpha=0.8,
                 label="train loss (one batch)")
    held = [e for e in entries if "heldoutLoss" in e]
    if held:
        ax_loss.plot(millions(held), [e["heldoutLoss"] for e in held], "o-", ms=4, color="tab:orange",
                     label="held-out loss")
        last = held[-1]
        ax_loss.annotate(f"{last['heldoutLoss']:.3f}", (last["tokens"] / 1e6, last["heldoutLoss"]),
                         textcoords="offset points", xytext=(-14, 8), fontsize=8, color="tab:orange")
    ax_loss.set_ylabel("cross-entropy (nats / token)")
    ax_loss.set_title(title)
    ax_loss.grid(alpha=0.3)
    ax_loss.legend()

    sparse = [e for e in entries if e.get("sparsity")]
    if sparse:
        layers = len(sparse[-1]["sparsity"])
        for l in range(layers):
            per = [(e["tokens"] / 1e6, e["sparsity"][l]) for e in sparse if len(e["sparsity"]) == layers]
            ax_sparse.plot([x for x, _ in per], [y for _, y in per], lw=0.6, alpha=0.5, label=f"layer {l}")
        ax_sparse.plot(millions(sparse), [sum(e["sparsity"]) / len(e["sparsity"]) for e in sparse], lw=1.8,
                       color="black", label="mean")
        ax_sparse.legend(fontsize=7, ncol=min(layers + 1, 6))
    ax_sparse.set_ylim(0, 1)
    ax_sparse.set_ylabel("FFN activations exactly 0")
    ax_sparse.set_xlabel("tokens trained (millions)")
    ax_sparse.grid(alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--run-dir", type=Path, default=None, help="default .cache/train/<run>")
    parser.add_argument("--out", type=Path, default=None, help="default models/<modelId>/loss.png")
    args = parser.parse_args(argv)
    config = read_config(args.config or DEFAULT_CONFIG)
    run = args.run_dir or run_dir(config)
    out = args.out or REPO / "models" / config["modelId"] / "loss.png"
    log_path = run / "loss.jsonl"
    if not log_path.exists():
        print(f"plot_loss: {log_path} does not exist (train.py writes it)", file=sys.stderr)
        return 1
    entries, bad = read_log(log_path)
    if not entries:
        print(f"plot_loss: {log_path} has no entries yet", file=sys.stderr)
        return 1
    last = entries[-1]
    plot(entries, out, f"{config['displayName']}: step {last['step']}, {last['tokens'] / 1e6:.1f}M tokens")
    skipped = f", {bad} unreadable lines skipped" if bad else ""
    print(f"wrote {out}: {len(entries)} steps{skipped}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
