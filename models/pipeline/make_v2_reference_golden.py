"""Writes test/golden/tiny-v2-reference.json: the NumPy reference (reference_v2.py) on each format-v2
fixture (make_fixture_v2.py), for the engine's ModelV2 to match.

The reference is dense f32 math on the dequantised q8_32 weights. An engine that also rounds
activations to q8 differs from it by up to ~3% of the largest logit on these random models (enough
to change greedy ids), so each fixture also has `q8Activations`: the same run with the input of every
q8_32 matrix product rounded to q8_32 (reference_v2.py, activations="q8"). Every greedy choice's
top-2 logit gap is listed (`top2Gaps`): ids are comparable exactly only where the gap is well above
the engine's error.

    /usr/bin/python3 models/pipeline/make_v2_reference_golden.py [--out test/golden/tiny-v2-reference.json]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import jsonfmt
from fixture_common import FIM_PREFIX, FIM_SUFFIX, FIXTURES, PROMPT_TEXT
from jsonfmt import f32_list
from paths import REPO
from reference import GreedyRun
from reference_v2 import ReferenceModelV2

GREEDY_STEPS = 32
DECODE_LOGITS_STEPS = 3
FIM_STEPS = 16
HEAD_VALUES = 64


def top2_gaps(run: GreedyRun) -> list[float]:
    """Best-minus-second logit of each greedy choice: after the prefill, then after each fed id."""
    chosen_from = [run.prefill_logits] + run.step_logits[:-1]
    return [round(float(np.diff(np.sort(l)[-2:])[0]), 4) for l in chosen_from]


def q8_activations_golden(name: str, prompt_ids: list[int], f32_prefill: np.ndarray) -> dict:
    model = ReferenceModelV2(REPO / "test" / "fixtures" / name, activations="q8")
    run = model.greedy(prompt_ids, GREEDY_STEPS)
    fim_ids = model.fim_prompt(FIM_PREFIX, FIM_SUFFIX)
    fim_run = model.greedy(fim_ids, FIM_STEPS)
    gaps = top2_gaps(run)
    return {
        "prefillArgmax": int(np.argmax(run.prefill_logits)),
        "prefillLastLogits": f32_list(run.prefill_logits),
        "maxAbsDiffFromF32": round(float(np.max(np.abs(run.prefill_logits - f32_prefill))), 6),
        "greedyIds": run.ids,
        "top2Gaps": gaps,
        "minTop2Gap": min(gaps),
        "fim": {"greedyIds": fim_run.ids, "top2Gaps": top2_gaps(fim_run)},
    }


def int8_kv_golden(name: str, prompt_ids: list[int], f32_prefill: np.ndarray) -> dict:
    model = ReferenceModelV2(REPO / "test" / "fixtures" / name, kv="int8")
    run = model.greedy(prompt_ids, GREEDY_STEPS)
    gaps = top2_gaps(run)
    return {
        "prefillLastLogits": f32_list(run.prefill_logits),
        "maxAbsDiffFromF32": round(float(np.max(np.abs(run.prefill_logits - f32_prefill))), 6),
        "greedyIds": run.ids,
        "top2Gaps": gaps,
    }


def fixture_golden(name: str) -> dict:
    model = ReferenceModelV2(REPO / "test" / "fixtures" / name)
    tok = model.tokenizer
    prompt_ids = tok.encode(PROMPT_TEXT)
    run = model.greedy(prompt_ids, GREEDY_STEPS)
    steps = []
    for i in range(DECODE_LOGITS_STEPS):
        steps.append({"position": len(prompt_ids) + i, "inputId": run.ids[i],
                      "nextId": int(np.argmax(run.step_logits[i])), "logits": f32_list(run.step_logits[i])})
    fim_ids = model.fim_prompt(FIM_PREFIX, FIM_SUFFIX)
    fim_run = model.greedy(fim_ids, FIM_STEPS)
    gaps = top2_gaps(run)
    return {
        "model": f"test/fixtures/{name}",
        "promptText": PROMPT_TEXT,
        "promptIds": prompt_ids,
        "prefillArgmax": int(np.argmax(run.prefill_logits)),
        "prefillLastLogitsHead": f32_list(run.prefill_logits[:HEAD_VALUES]),
        "prefillLastLogits": f32_list(run.prefill_logits),
        "decode": {"steps": steps},
        "greedyIds": run.ids,
        "greedyText": tok.decode(run.ids),
        "top2Gaps": gaps,
        "minTop2Gap": min(gaps),
        "fim": {"prefix": FIM_PREFIX, "suffix": FIM_SUFFIX, "promptIds": fim_ids, "greedyIds": fim_run.ids,
                "top2Gaps": top2_gaps(fim_run)},
        "q8Activations": q8_activations_golden(name, prompt_ids, run.prefill_logits),
        "int8Kv": int8_kv_golden(name, prompt_ids, run.prefill_logits),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "test" / "golden" / "tiny-v2-reference.json")
    args = parser.parse_args()
    golden = {
        "about": ("models/pipeline/reference_v2.py: dense f32 math on the dequantised q8_32 weights, greedy (argmax, "
                  "lowest id on ties). prefillLastLogits: the logits at the last prompt position (all V; "
                  "prefillLastLogitsHead the first 64). decode.steps[i]: inputId fed at `position`, its logits and "
                  "argmax nextId. greedyIds[0] = prefillArgmax. top2Gaps[i]: best-minus-second logit of greedy "
                  "choice i. fim.promptIds: the manifest's FIM prompt, or the prefix alone without `fim`. "
                  "q8Activations: the same runs with the input of every q8_32 matrix product (normed x before "
                  "qkv, gate/up and head; attention context before out) rounded to q8_32 as FORMAT.md §Q; the "
                  "down projection keeps f32 activations. int8Kv: the same prompt and greedy run with keys and "
                  "values stored as the engine's 8-bit KV cache (reference_v2.py, kv=\"int8\"). Floats are the "
                  "shortest decimals of float32 values."),
        "fixtures": {spec.name: fixture_golden(spec.name) for spec in FIXTURES},
    }
    args.out.write_text(jsonfmt.dumps(golden) + "\n", encoding="utf-8")
    for name, g in golden["fixtures"].items():
        q8 = g["q8Activations"]
        same = sum(a == b for a, b in zip(q8["greedyIds"], g["greedyIds"]))
        print(f"{name}: minTop2Gap {g['minTop2Gap']}, greedy {g['greedyText']!r}; q8 activations: max |Δlogit| "
              f"{q8['maxAbsDiffFromF32']}, {same}/{len(g['greedyIds'])} greedy ids equal, minTop2Gap {q8['minTop2Gap']}; "
              f"int8 KV: max |Δlogit| {g['int8Kv']['maxAbsDiffFromF32']}, "
              f"{sum(a == b for a, b in zip(g['int8Kv']['greedyIds'], g['greedyIds']))}/{len(g['greedyIds'])} greedy ids equal")


if __name__ == "__main__":
    main()
