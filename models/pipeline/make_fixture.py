"""Writes the tiny random Llama-style fixture model (format v1) to test/fixtures/tiny-model/.

Everything follows from SEED and the pinned tokenizer corpus (corpus.py), so a rerun writes the same
bytes. Random weights, so it completes nonsense — but printable, varied nonsense: head.onnx adds a
logit bias of SUPPRESSED_LOGIT_BIAS to special tokens and to tokens that are not printable on their
own (control bytes, partial UTF-8), so greedy decoding never stops early or emits garbage bytes.
Its predictors.bin is exact by construction (A = I, B = W_gateᵀ, bias 0, threshold 0: the score is
the gate itself), so the sparse FFN path predicts exactly the neurons the ReLU leaves non-zero.

    /usr/bin/python3 models/pipeline/make_fixture.py [--out DIR]
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np

import bpe
import corpus
from fixture_common import SPARSITY_PROMPT, SPARSITY_STEPS, SUPPRESSED_LOGIT_BIAS, is_printable_token
from flashcode_format import (DTYPE_F32, FfnLayer, PredictorLayer, decode_predictors_bin, predictors_manifest_entry,
                              write_ffn_bin, write_manifest, write_predictors_bin)
from graphs import Dims, save_graphs
from manifest_v1 import v1_manifest

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "test" / "fixtures" / "tiny-model"

SEED = 20260101
MODEL_ID = "flashcode-tiny-fixture"
VOCAB_SIZE = 512
SPECIAL_TOKENS = ["<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|file_sep|>"]
CONTEXT_TOKENS = 2048

DIMS = Dims(layers=2, d_model=64, heads=4, kv_heads=2, head_dim=16, ffn_size=256, vocab=VOCAB_SIZE,
            norm_eps=1e-5, rope_theta=10000.0, ffn_activation="relu", ffn_gated=True)

# Init scales (std of a normal). Projections at 2/sqrt(d) let attention mix enough context that
# greedy output stays varied; at 1/sqrt(d) the next token depends mostly on the last one and
# several prompts fell into one-token loops. HEAD_STD sets the logit spread (std ≈ 3).
EMBED_STD = 1.0
NORM_JITTER = 0.1          # norm weights are 1 + N(0, 0.1²), so a missing norm weight shows up
PROJ_STD = 2 / np.sqrt(DIMS.d_model)
FFN_DOWN_STD = 1 / np.sqrt(DIMS.ffn_size)
HEAD_STD = 0.4


def train_tokenizer() -> tuple[str, bpe.ByteLevelBpe]:
    merges_wanted = VOCAB_SIZE - 256 - len(SPECIAL_TOKENS)
    merges = bpe.train_bpe(corpus.texts(), merges_wanted)
    vocab, special = bpe.build_vocab(merges, SPECIAL_TOKENS)
    assert len(vocab) + len(special) == VOCAB_SIZE
    return bpe.tokenizer_json(vocab, merges, special), bpe.ByteLevelBpe(vocab, merges, special)


def init_weights(rng: np.random.Generator, tokenizer: bpe.ByteLevelBpe) -> tuple[dict, list[dict], list[FfnLayer], dict]:
    """Draws every weight in a fixed order: embed, then per layer attention and FFN, then head."""
    d, H, Hkv, hd, K, V = DIMS.d_model, DIMS.heads, DIMS.kv_heads, DIMS.head_dim, DIMS.ffn_size, DIMS.vocab
    normal = lambda shape, std: (rng.standard_normal(shape) * std).astype(np.float32)
    norm_weight = lambda: (1 + rng.standard_normal(d) * NORM_JITTER).astype(np.float32)
    inv_freq = (DIMS.rope_theta ** (-np.arange(0, hd, 2) / hd)).astype(np.float32)   # [hd/2]

    embed = {"embed.weight": normal((V, d), EMBED_STD)}
    attn, ffn = [], []
    for _ in range(DIMS.layers):
        attn.append({
            "attn_norm.weight": norm_weight(),
            "wq_t": normal((d, H * hd), PROJ_STD),
            "wk_t": normal((d, Hkv * hd), PROJ_STD),
            "wv_t": normal((d, Hkv * hd), PROJ_STD),
            "wo_t": normal((H * hd, d), PROJ_STD),
            "rope.inv_freq": inv_freq,
            "ffn_norm.weight": norm_weight(),
        })
        ffn.append(FfnLayer(w_gate=normal((K, d), PROJ_STD), w_up=normal((K, d), PROJ_STD),
                            w_down=normal((d, K), FFN_DOWN_STD)))
    bias = np.array([0.0 if is_printable_token(tokenizer, i) else SUPPRESSED_LOGIT_BIAS for i in range(V)],
                    dtype=np.float32)
    head = {"final_norm.weight": norm_weight(), "lm_head_t": normal((d, V), HEAD_STD), "logit_bias": bias}
    return embed, attn, ffn, head


def base_manifest(suppressed: int) -> dict:
    return v1_manifest(
        model_id=MODEL_ID,
        display_name="Flashcode tiny fixture (random weights, for tests)",
        notes=(f"Random weights from seed {SEED} (models/pipeline/make_fixture.py). head.onnx adds a "
               f"logit bias of {SUPPRESSED_LOGIT_BIAS:g} to the {suppressed} special or non-printable tokens, "
               "so greedy output is printable text and never stops on a stop token."),
        architecture={
            "family": "llama", "layers": DIMS.layers, "dModel": DIMS.d_model, "heads": DIMS.heads,
            "kvHeads": DIMS.kv_heads, "headDim": DIMS.head_dim, "ffnSize": DIMS.ffn_size,
            "ffnActivation": DIMS.ffn_activation, "ffnGated": DIMS.ffn_gated, "ropeTheta": DIMS.rope_theta,
            "normEps": DIMS.norm_eps, "vocabSize": DIMS.vocab, "tiedEmbeddings": False,
        },
        context_tokens=CONTEXT_TOKENS)


def measure_sparsity(model_dir: Path) -> dict:
    """Share of FFN neurons exactly zero per token, from the reference reading the written files."""
    from reference import ReferenceModel  # reads manifest.json, so only after it exists
    model = ReferenceModel(model_dir)
    stats = model.new_stats()
    prompt = model.tokenizer.encode(SPARSITY_PROMPT)
    model.greedy(prompt, SPARSITY_STEPS, stats)
    per_layer = stats.per_layer()
    return {
        "meanActivationSparsity": round(float(np.mean(per_layer)), 4),
        "perLayer": [round(x, 4) for x in per_layer],
        "measuredOn": (f"reference forward pass (models/pipeline/reference.py) over a {len(prompt)}-token "
                       f"Python prompt and {SPARSITY_STEPS} greedy decode steps"),
    }


def exact_predictors(ffn: list[FfnLayer]) -> list[PredictorLayer]:
    """Per layer A = I [d, d], B = W_gateᵀ [d, ffnSize] (f32, as ffn.bin stores it), bias 0, threshold 0:
    score = W_gate·x, so neuron j is predicted active exactly when ReLU(W_gate·x)[j] > 0."""
    d = DIMS.d_model
    return [PredictorLayer(a=np.eye(d, dtype=np.float32), b=np.ascontiguousarray(layer.w_gate.T, dtype=np.float32),
                           bias=np.zeros(DIMS.ffn_size, dtype=np.float32), threshold=0.0) for layer in ffn]


def measure_predictors(model_dir: Path) -> dict:
    """The manifest's `predictors` block: predictors.bin scored against the reference's true activations
    (non-zero FFN neurons) over the same run as measure_sparsity."""
    from reference import ReferenceModel  # reads manifest.json, so only after it exists

    class Recording(ReferenceModel):
        """Keeps each layer's FFN input x [T, d] and activations h [T, ffnSize]."""
        def ffn_activations(self, l: int, x: np.ndarray) -> np.ndarray:
            h = super().ffn_activations(l, x)
            seen[l].append((x, h))
            return h

    model = Recording(model_dir)
    seen: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in range(model.layers)]
    prompt = model.tokenizer.encode(SPARSITY_PROMPT)
    model.greedy(prompt, SPARSITY_STEPS)
    _, predictors = decode_predictors_bin((Path(model_dir) / "predictors.bin").read_bytes())
    recall, precision, fraction = [], [], []
    for p, pairs in zip(predictors, seen):
        x = np.concatenate([x for x, _ in pairs])                       # [tokens, d]
        active = np.concatenate([h for _, h in pairs]) != 0             # [tokens, ffnSize]
        predicted = (x @ p.a) @ p.b + p.bias > np.float32(p.threshold)  # [tokens, ffnSize]
        hits = np.count_nonzero(predicted & active)
        recall.append(hits / np.count_nonzero(active))
        precision.append(hits / np.count_nonzero(predicted))
        fraction.append(float(np.mean(predicted)))
    return predictors_manifest_entry(
        predictors, recall, precision, fraction,
        measured_on=("exact by construction: A = I, B = W_gate^T, bias 0, threshold 0; recall, precision and "
                     "predictedActiveFraction from the reference forward pass (models/pipeline/reference.py) over "
                     f"a {len(prompt)}-token Python prompt and {SPARSITY_STEPS} greedy decode steps"))


def write_fixture(out: Path) -> dict:
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    tok_json, tokenizer = train_tokenizer()
    (out / "tokenizer.json").write_text(tok_json, encoding="utf-8")

    embed, attn, ffn, head = init_weights(np.random.default_rng(SEED), tokenizer)
    save_graphs(out, DIMS, embed["embed.weight"], attn, head)
    write_ffn_bin(out / "ffn.bin", ffn, DTYPE_F32)
    write_predictors_bin(out / "predictors.bin", exact_predictors(ffn), DTYPE_F32)

    manifest = base_manifest(int(np.count_nonzero(head["logit_bias"])))
    write_manifest(out, manifest)  # files first, so the reference can verify them
    manifest["sparsity"] = measure_sparsity(out)
    manifest["predictors"] = measure_predictors(out)
    return write_manifest(out, manifest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    manifest = write_fixture(args.out)
    total = sum(f["bytes"] for f in manifest["files"].values())
    recall = [p["recall"] for p in manifest["predictors"]["perLayer"]]
    print(f"wrote {args.out}: {len(manifest['files'])} files, {total} bytes; sparsity {manifest['sparsity']['perLayer']}; "
          f"predictor recall {recall}")


if __name__ == "__main__":
    main()
