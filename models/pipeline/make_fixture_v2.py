"""Writes the tiny random format-v2 fixtures to test/fixtures/: tiny-llama-v2 (SwiGLU, untied head,
GQA 4 query / 2 key-value heads), tiny-qwen2-v2 (Q/K/V bias, tied embeddings, SwiGLU, 4:1 GQA, no FIM
tokens, a chat template) and tiny-relu-v2 (ReLU-gated FFN with the gate in ffn.bin's records, and
exact predictors as the v1 fixture has).

Each reuses the v1 fixture's tokenizer (test/fixtures/tiny-model/tokenizer.json, 512 tokens) and
follows from its seed alone, so a rerun writes the same bytes. Random weights: weights.bin's
head_bias is SUPPRESSED_LOGIT_BIAS on special tokens and tokens not printable on their own, so
greedy output is printable text and never a stop token (as the v1 fixture's logit bias).

    /usr/bin/python3 models/pipeline/make_fixture_v2.py [--out-root test/fixtures]
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np

from bpe import ByteLevelBpe
from fixture_common import (FIXTURES, SPARSITY_PROMPT, SPARSITY_STEPS, SUPPRESSED_LOGIT_BIAS, FixtureSpec,
                            is_printable_token)
from flashcode_format import (DTYPE_F32, FfnLayer, PredictorLayer, decode_ffn_bin, predictors_manifest_entry,
                              write_manifest, write_predictors_bin)
from flashcode_format_v2 import tensor_specs, write_model_dir_v2

REPO = Path(__file__).resolve().parents[2]
TOKENIZER = REPO / "test" / "fixtures" / "tiny-model" / "tokenizer.json"
CONTEXT_TOKENS = 2048
CHATML_TEMPLATE = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] "
                   "+ '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
FIM = {"order": "psm", "prefixToken": "<|fim_prefix|>", "suffixToken": "<|fim_suffix|>",
       "middleToken": "<|fim_middle|>", "endOfTextToken": "<|endoftext|>", "fileSeparatorToken": "<|file_sep|>"}


# Init scales (std of a normal), as make_fixture.py: projections at 2/sqrt(d) keep greedy output varied.
# A tied head is the embedding itself, so its std sets the logit spread there (≈ 3, like HEAD_STD's).
NORM_JITTER = 0.1
HEAD_STD = 0.4
TIED_EMBED_STD = 0.4
QKV_BIAS_STD = 0.5


def init_weights(spec: FixtureSpec, tokenizer: ByteLevelBpe, vocab: int) -> tuple[dict, list[FfnLayer]]:
    """weights.bin's tensors (f32, before quantisation) and the FFN layers, drawn in the spec's order."""
    rng = np.random.default_rng(spec.seed)
    arch = spec.architecture(vocab)
    d, F = spec.d_model, spec.ffn_size
    proj, down = 2 / np.sqrt(d), 1 / np.sqrt(F)
    normal = lambda shape, std: (rng.standard_normal(shape) * std).astype(np.float32)
    tensors: dict[str, np.ndarray] = {}
    ffn = []
    for name, t in tensor_specs(arch).items():
        if name == "embed":
            tensors[name] = normal(t.shape, TIED_EMBED_STD if spec.tied else 1.0)
        elif name == "head":
            tensors[name] = normal(t.shape, HEAD_STD)
        elif name == "head_bias":
            tensors[name] = np.array([0.0 if is_printable_token(tokenizer, i) else SUPPRESSED_LOGIT_BIAS
                                      for i in range(vocab)], dtype=np.float32)
        elif name.endswith("norm"):
            tensors[name] = (1 + rng.standard_normal(t.shape) * NORM_JITTER).astype(np.float32)
        elif name.endswith("qkv_bias"):
            tensors[name] = normal(t.shape, QKV_BIAS_STD)
        else:  # qkv, out, ffn_gate
            tensors[name] = normal(t.shape, proj)
        if name.endswith("ffn_norm"):  # the layer's FFN, right after its norm
            gate = normal((F, d), proj)
            if spec.activation == "silu":
                tensors[name.replace("ffn_norm", "ffn_gate")] = gate
            ffn.append(FfnLayer(w_gate=None if spec.activation == "silu" else gate,
                                w_up=normal((F, d), proj), w_down=normal((d, F), down)))
    return tensors, ffn


def manifest(spec: FixtureSpec, vocab: int, suppressed: int) -> dict:
    m = {
        "id": f"flashcode-{spec.name}",
        "displayName": f"Flashcode {spec.name} fixture (random weights, for tests)",
        "notes": (f"Random weights from seed {spec.seed} (models/pipeline/make_fixture_v2.py), q8_32. weights.bin's "
                  f"head_bias is {SUPPRESSED_LOGIT_BIAS:g} on the {suppressed} special or non-printable tokens, so "
                  "greedy output is printable text and never stops on a stop token."),
        "architecture": spec.architecture(vocab),
        "contextTokens": CONTEXT_TOKENS,
        "stopTokens": ["<|endoftext|>", "<|file_sep|>"],
    }
    if spec.fim:
        m["fim"] = FIM
    if spec.chat:
        m["chat"] = {"template": CHATML_TEMPLATE, "format": "chatml"}
    if spec.activation == "silu":
        m["sparsity"] = {"gateThresholds": [0.0] * spec.layers, "targetSkip": 0.0, "measuredSkip": [0.0] * spec.layers,
                         "measuredOn": "dense: every gate threshold is 0, so no neuron is skipped"}
    return m


def exact_predictors(model_dir: Path) -> list[PredictorLayer]:
    """A = I, B = W_gateᵀ as ffn.bin stores it (dequantised), bias 0, threshold 0: the score is the
    gate itself, so neuron j is predicted active exactly when ReLU(W_gate·x)[j] > 0."""
    _, layers = decode_ffn_bin((model_dir / "ffn.bin").read_bytes())
    d = layers[0].w_up.shape[1]
    return [PredictorLayer(a=np.eye(d, dtype=np.float32), b=np.ascontiguousarray(l.w_gate.T), threshold=0.0,
                           bias=np.zeros(l.w_gate.shape[0], dtype=np.float32)) for l in layers]


def add_predictors(model_dir: Path, full: dict) -> dict:
    """predictors.bin and the manifest's `predictors` block, measured with the v2 reference."""
    from reference_v2 import ReferenceModelV2  # reads manifest.json, so only after it exists
    predictors = exact_predictors(model_dir)
    write_predictors_bin(model_dir / "predictors.bin", predictors, DTYPE_F32)
    full = write_manifest(model_dir, {k: v for k, v in full.items() if k != "files"})
    model = ReferenceModelV2(model_dir)
    seen: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in range(model.layers)]
    base = model.ffn_activations
    model.ffn_activations = lambda l, x: seen[l].append((x, base(l, x))) or seen[l][-1][1]
    prompt = model.tokenizer.encode(SPARSITY_PROMPT)
    model.greedy(prompt, SPARSITY_STEPS)
    recall, precision, fraction = [], [], []
    for p, pairs in zip(predictors, seen):
        x = np.concatenate([x for x, _ in pairs])
        active = np.concatenate([h for _, h in pairs]) != 0
        predicted = (x @ p.a) @ p.b + p.bias > np.float32(p.threshold)
        hits = np.count_nonzero(predicted & active)
        recall.append(hits / np.count_nonzero(active))
        precision.append(hits / np.count_nonzero(predicted))
        fraction.append(float(np.mean(predicted)))
    full["predictors"] = predictors_manifest_entry(
        predictors, recall, precision, fraction,
        measured_on=("exact by construction: A = I, B = W_gate^T (dequantised), bias 0, threshold 0; measured with "
                     f"models/pipeline/reference_v2.py over a {len(prompt)}-token prompt and {SPARSITY_STEPS} greedy steps"))
    return write_manifest(model_dir, {k: v for k, v in full.items() if k != "files"})


def write_fixture(spec: FixtureSpec, out: Path) -> dict:
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    tok_bytes = TOKENIZER.read_bytes()
    tokenizer = ByteLevelBpe.from_tokenizer_json(json.loads(tok_bytes))
    vocab = json.loads((TOKENIZER.parent / "manifest.json").read_text())["architecture"]["vocabSize"]
    tensors, ffn = init_weights(spec, tokenizer, vocab)
    suppressed = int(np.count_nonzero(tensors["head_bias"]))
    full = write_model_dir_v2(out, manifest(spec, vocab, suppressed), tensors, ffn, tok_bytes)
    return add_predictors(out, full) if spec.predictors else full


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-root", type=Path, default=REPO / "test" / "fixtures")
    args = parser.parse_args()
    for spec in FIXTURES:
        m = write_fixture(spec, args.out_root / spec.name)
        print(f"wrote {args.out_root / spec.name}: {sum(f['bytes'] for f in m['files'].values())} bytes")


if __name__ == "__main__":
    main()
