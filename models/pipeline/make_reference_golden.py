"""Writes test/golden/tiny-model-reference.json and tiny-model-tokenizer.json from the fixture files.

The TypeScript engine runs the same model through ONNX Runtime and compares ids exactly and logits
within a tolerance.

    /usr/bin/python3 models/pipeline/make_reference_golden.py [--model DIR] [--out DIR]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import jsonfmt
from fixture_common import FIM_PREFIX, FIM_SUFFIX, PROMPT_TEXT
from jsonfmt import f32_list
from reference import DEFAULT_MODEL_DIR, REPO, GreedyRun, ReferenceModel

DECODE_STEPS = 16
LOGITS_STEPS = 3
GREEDY_STEPS = 32
FIM_STEPS = 16
MIN_TOP2_GAP = 1e-3

TOKENIZER_CASES = [
    "def add(a, b):\n    return a + b\n",
    "const x = (y: number) => y * 2;\r\n\tif (x) { return 'ok'; }",
    "<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>",
    "<|endoftext|><|file_sep|>a<|endoftext",
    "it's we'll I'M don't 'S",
    "héllo wörld — ünïcödé 日本語 ١٢٣ ½ \u00a0x  \n\n  \t",
    "😀 emoji \x00\x01 ctl",
    "   leading and trailing   ",
    "a . b , c",
]


def top2_gap(runs: list[GreedyRun]) -> float:
    """Smallest margin between the best and second-best logit over every greedy choice made."""
    chosen_from = [l for run in runs for l in [run.prefill_logits] + run.step_logits[:-1]]
    return min(float(np.diff(np.sort(l)[-2:])[0]) for l in chosen_from)


def reference_golden(model: ReferenceModel) -> dict:
    tok = model.tokenizer
    prompt_ids = tok.encode(PROMPT_TEXT)
    run = model.greedy(prompt_ids, GREEDY_STEPS)
    steps = []
    for i in range(DECODE_STEPS):
        step = {"position": len(prompt_ids) + i, "inputId": run.ids[i], "nextId": int(np.argmax(run.step_logits[i]))}
        if i < LOGITS_STEPS:
            step["logits"] = f32_list(run.step_logits[i])
        steps.append(step)

    fim_ids = model.fim_prompt(FIM_PREFIX, FIM_SUFFIX)
    fim_run = model.greedy(fim_ids, FIM_STEPS)
    # Float32 engines differ from this reference by ~1e-5; a near-tie would make ids flaky.
    gap = top2_gap([run, fim_run])
    if gap < MIN_TOP2_GAP:
        raise SystemExit(f"a greedy choice is a near-tie (gap {gap:.2e}); change PROMPT_TEXT or the fixture seed")
    return {
        "model": "test/fixtures/tiny-model",
        "about": ("Greedy (argmax, lowest id on ties) from models/pipeline/reference.py. prefillLastLogits: "
                  "logits at the last prompt position. decode.steps[i]: inputId fed at `position`, the logits "
                  "that produced (first steps only), and their argmax nextId. greedyIds[0] = "
                  "argmax(prefillLastLogits), greedyIds[i+1] = decode.steps[i].nextId. minTop2Gap: the "
                  "smallest best-minus-second logit margin of any greedy choice here."),
        "minTop2Gap": round(gap, 6),
        "promptText": PROMPT_TEXT,
        "promptIds": prompt_ids,
        "prefillLastLogits": f32_list(run.prefill_logits),
        "decode": {"steps": steps},
        "greedyIds": run.ids,
        "greedyText": tok.decode(run.ids),
        "fim": {
            "prefix": FIM_PREFIX,
            "suffix": FIM_SUFFIX,
            "promptIds": fim_ids,
            "greedyIds": fim_run.ids,
            "greedyText": tok.decode(fim_run.ids),
        },
    }


def tokenizer_golden(model: ReferenceModel) -> dict:
    tok = model.tokenizer
    return {
        "tokenizer": "test/fixtures/tiny-model/tokenizer.json",
        "about": ("Ids from the pure-Python reference encoder (models/pipeline/bpe.py). Special tokens in the text "
                  "map to their single id. Decoding ids gives the text back when decoded without "
                  "clean_up_tokenization_spaces."),
        "specialTokens": dict(tok.special),
        "cases": [{"text": text, "ids": tok.encode(text)} for text in TOKENIZER_CASES],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--out", type=Path, default=REPO / "test" / "golden")
    args = parser.parse_args()
    model = ReferenceModel(args.model)
    args.out.mkdir(parents=True, exist_ok=True)
    ref = reference_golden(model)
    (args.out / "tiny-model-reference.json").write_text(jsonfmt.dumps(ref) + "\n", encoding="utf-8")
    (args.out / "tiny-model-tokenizer.json").write_text(jsonfmt.dumps(tokenizer_golden(model)) + "\n", encoding="utf-8")
    print(f"prompt {len(ref['promptIds'])} tokens → {ref['greedyText']!r}")
    print(f"fim → {ref['fim']['greedyText']!r}")


if __name__ == "__main__":
    main()
