"""The check export_model.py makes before it replaces a model directory: reference.py, reading the
written files, computes the torch model's logits (FFN weights as ffn.bin stores them) within
CROSS_CHECK_TOLERANCE at every position of a plain and a FIM prompt and over greedy steps."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from export_v1 import ExportCheckError
from lm import CodeLm

CROSS_CHECK_TOLERANCE = 1e-3
CROSS_CHECK_PROMPT = "import os\n\n\ndef read_lines(path):\n    with open(path) as f:\n        return "
CROSS_CHECK_FIM = ("function add(a, b) {\n  return ", ";\n}\n")
CROSS_CHECK_STEPS = 8


@torch.no_grad()
def torch_logits(model: CodeLm, ids: list[int], bias: np.ndarray) -> np.ndarray:
    """[T, V] logits of one sequence, with head.onnx's bias added."""
    logits, _ = model(torch.tensor([ids], dtype=torch.int64))
    return logits[0].numpy() + bias


def reference_path(ref, prompt: list[int], steps: int) -> tuple[np.ndarray, list[int]]:
    """The reference's logits at every prompt position, then after each of `steps` greedy tokens: [T + steps, V]."""
    cache = ref.empty_cache()
    rows = list(ref.forward(prompt, cache))
    ids: list[int] = []
    for _ in range(steps):
        ids.append(int(np.argmax(rows[-1])))
        rows.append(ref.forward([ids[-1]], cache)[-1])
    return np.stack(rows), ids


def cross_check(model_dir: Path, stored: CodeLm, bias: np.ndarray, steps: int = CROSS_CHECK_STEPS) -> dict:
    """reference.py on the written files vs torch: max |Δlogit| over a plain and a FIM prompt, greedy steps included."""
    from reference import ReferenceModel  # reads the manifest, so only once it is written
    ref = ReferenceModel(model_dir)
    context = stored.c.context_tokens
    worst, positions, greedy_agree = 0.0, 0, True
    prompts = [ref.tokenizer.encode(CROSS_CHECK_PROMPT), ref.fim_prompt(*CROSS_CHECK_FIM)]
    for prompt in prompts:
        prompt = prompt[-(context - steps):]
        ref_logits, ids = reference_path(ref, prompt, steps)
        t_logits = torch_logits(stored, prompt + ids, bias)[:len(ref_logits)]
        worst = max(worst, float(np.max(np.abs(ref_logits - t_logits))))
        positions += len(ref_logits)
        greedy_agree &= [int(i) for i in np.argmax(t_logits[len(prompt) - 1:], axis=-1)[:len(ids)]] == ids
    result = {"maxAbsLogitDiff": worst, "tolerance": CROSS_CHECK_TOLERANCE, "positions": positions,
              "greedyIdsAgree": greedy_agree,
              "what": "reference.py reading the written files vs the torch model (FFN weights as ffn.bin stores them), "
                      f"a plain and a FIM prompt, every prompt position and {steps} greedy steps each"}
    if not worst <= CROSS_CHECK_TOLERANCE:
        raise ExportCheckError(f"reference.py on {model_dir} differs from the torch model by {worst:.3g} "
                               f"(tolerance {CROSS_CHECK_TOLERANCE}) — the export is wrong; nothing was replaced")
    return result
