"""ONNX graphs of format v1 (models/FORMAT.md §2), built with onnx.helper at opset 17.

Every weight but the FFN's is an initializer inside its graph; the FFN graph takes its weights as
inputs so the engine can feed any K neurons. Dynamic dims: T (tokens in this call), P (tokens
already cached), S = P + T, K (neurons fed to the FFN).

Initializer names (reference.py reads the weights back by these names):
  embed.onnx   embed.weight [V, d]
  attn.<l>     attn_norm.weight [d], wq_t [d, H*hd], wk_t [d, Hkv*hd], wv_t [d, Hkv*hd],
               wo_t [H*hd, d], rope.inv_freq [hd/2], ffn_norm.weight [d]
  head.onnx    final_norm.weight [d], lm_head_t [d, V], logit_bias [V]
(`_t` = stored transposed, [in, out], so that x · W_t needs no Transpose node.)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # what onnx 1.12 writes for opset 17; ONNX Runtime Web 1.30 reads it
MASKED_SCORE = float(np.finfo(np.float32).min)  # score of a key a query may not see


@dataclass(frozen=True)
class Dims:
    layers: int
    d_model: int
    heads: int
    kv_heads: int
    head_dim: int
    ffn_size: int
    vocab: int
    norm_eps: float
    rope_theta: float
    ffn_activation: str  # "relu" | "squared_relu"
    ffn_gated: bool


class _Builder:
    """Collects nodes and initializers; names intermediate values uniquely."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def op(self, op_type: str, inputs: list[str], name: str = "", **attrs) -> str:
        self._count += 1
        out = name or f"{op_type.lower()}_{self._count}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=f"{op_type}_{self._count}", **attrs))
        return out

    def const(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def rms_norm(self, x: str, weight: str, eps: str, name: str = "") -> str:
        """x / sqrt(mean(x², last axis) + eps) · weight."""
        mean_sq = self.op("ReduceMean", [self.op("Mul", [x, x])], axes=[-1], keepdims=1)
        rms = self.op("Sqrt", [self.op("Add", [mean_sq, eps])])
        return self.op("Mul", [self.op("Div", [x, rms]), weight], name=name)

    def model(self, graph_name: str, inputs: list, outputs: list, doc: str) -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, graph_name, inputs, outputs, self.initializers, doc_string=doc)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="flashcode-pipeline", ir_version=IR_VERSION)
        onnx.checker.check_model(model, full_check=True)
        return model


def _f32(name: str, shape: list) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _i64(name: str, shape: list) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.INT64, shape)


def embed_graph(dims: Dims, embed_weight: np.ndarray) -> onnx.ModelProto:
    """input_ids int64 [1, T] → hidden f32 [1, T, d]."""
    b = _Builder()
    b.const("embed.weight", embed_weight.astype(np.float32))  # [V, d]
    b.op("Gather", ["embed.weight", "input_ids"], name="hidden", axis=0)
    return b.model("embed", [_i64("input_ids", [1, "T"])], [_f32("hidden", [1, "T", dims.d_model])],
                   "hidden = embed.weight[input_ids]")


def attention_graph(dims: Dims, w: dict[str, np.ndarray]) -> onnx.ModelProto:
    """One decoder layer's attention half with its KV cache, and the FFN's input norm.

    hidden [1,T,d], position_ids [1,T], past_key/past_value [1,Hkv,P,hd]
    → hidden_out [1,T,d], ffn_input [1,T,d], present_key/present_value [1,Hkv,S,hd].
    """
    d, H, Hkv, hd = dims.d_model, dims.heads, dims.kv_heads, dims.head_dim
    G = H // Hkv  # query heads per kv head; query head h uses kv head h // G
    b = _Builder()
    for name in ["attn_norm.weight", "wq_t", "wk_t", "wv_t", "wo_t", "ffn_norm.weight"]:
        b.const(name, w[name].astype(np.float32))
    inv_freq = b.const("rope.inv_freq", w["rope.inv_freq"].astype(np.float32))  # [hd/2]
    eps = b.const("norm_eps", np.array(dims.norm_eps, dtype=np.float32))
    scale = b.const("attn_scale", np.array(1 / np.sqrt(hd), dtype=np.float32))
    masked = b.const("masked_score", np.array(MASKED_SCORE, dtype=np.float32))
    i64 = lambda name, values: b.const(name, np.array(values, dtype=np.int64))

    x = b.rms_norm("hidden", "attn_norm.weight", eps)                                   # [1,T,d]

    def heads(proj: str, n: int, tag: str) -> str:                                      # → [1,n,T,hd]
        y = b.op("Reshape", [b.op("MatMul", [x, proj]), i64(f"shape_{tag}", [0, 0, n, hd])])
        return b.op("Transpose", [y], perm=[0, 2, 1, 3])

    q, k, v = heads("wq_t", H, "q"), heads("wk_t", Hkv, "k"), heads("wv_t", Hkv, "v")

    # RoPE from position_ids: angle[t, i] = position[t] · inv_freq[i], halves repeated (rotate-half).
    axis_1, axis_2, axis_3 = i64("axis_1", [1]), i64("axis_2", [2]), i64("axis_3", [3])
    pos = b.op("Unsqueeze", [b.op("Cast", ["position_ids"], to=TensorProto.FLOAT), axis_2])  # [1,T,1]
    freqs = b.op("Mul", [pos, inv_freq])                                                # [1,T,hd/2]
    angles = b.op("Concat", [freqs, freqs], axis=2)                                     # [1,T,hd]
    cos = b.op("Unsqueeze", [b.op("Cos", [angles]), axis_1])                            # [1,1,T,hd]
    sin = b.op("Unsqueeze", [b.op("Sin", [angles]), axis_1])
    half, full = i64("half_hd", [hd // 2]), i64("full_hd", [hd])
    zero = i64("zero_1d", [0])

    def rope(t: str) -> str:
        first = b.op("Slice", [t, zero, half, axis_3])
        second = b.op("Slice", [t, half, full, axis_3])
        rotated = b.op("Concat", [b.op("Neg", [second]), first], axis=3)               # rotate_half
        return b.op("Add", [b.op("Mul", [t, cos]), b.op("Mul", [rotated, sin])])

    q, k = rope(q), rope(k)
    b.op("Concat", ["past_key", k], name="present_key", axis=2)                        # [1,Hkv,S,hd]
    b.op("Concat", ["past_value", v], name="present_value", axis=2)

    # Grouped-query attention without repeating K/V per group: queries as [1,Hkv,G,T,hd] against
    # keys [1,Hkv,1,hd,S]; MatMul broadcasts over the group axis.
    q5 = b.op("Reshape", [b.op("Mul", [q, scale]), i64("shape_q5", [1, Hkv, G, -1, hd])])
    k5 = b.op("Unsqueeze", [b.op("Transpose", ["present_key"], perm=[0, 1, 3, 2]), axis_2])
    scores = b.op("MatMul", [q5, k5])                                                   # [1,Hkv,G,T,S]

    # Causal mask: key s (cache slot s holds position s) is visible to query t when s ≤ position_ids[t].
    s_len = b.op("Squeeze", [b.op("Shape", ["present_key"], start=2, end=3)])            # scalar S
    key_pos = b.op("Range", [i64("zero", 0), s_len, i64("one", 1)])                     # [S]
    query_pos = b.op("Reshape", ["position_ids", i64("shape_qpos", [1, 1, 1, -1, 1])])  # [1,1,1,T,1]
    visible = b.op("LessOrEqual", [key_pos, query_pos])                                 # [1,1,1,T,S]
    probs = b.op("Softmax", [b.op("Where", [visible, scores, masked])], axis=-1)

    v5 = b.op("Unsqueeze", ["present_value", axis_2])                      # [1,Hkv,1,S,hd]
    ctx = b.op("Reshape", [b.op("MatMul", [probs, v5]), i64("shape_ctx", [1, H, -1, hd])])  # [1,H,T,hd]
    ctx = b.op("Reshape", [b.op("Transpose", [ctx], perm=[0, 2, 1, 3]), i64("shape_merge", [0, 0, H * hd])])
    b.op("Add", ["hidden", b.op("MatMul", [ctx, "wo_t"])], name="hidden_out")           # [1,T,d]
    b.rms_norm("hidden_out", "ffn_norm.weight", eps, name="ffn_input")

    kv = [1, Hkv, "P", hd]
    return b.model(
        "attn",
        [_f32("hidden", [1, "T", d]), _i64("position_ids", [1, "T"]), _f32("past_key", kv), _f32("past_value", kv)],
        [_f32("hidden_out", [1, "T", d]), _f32("ffn_input", [1, "T", d]),
         _f32("present_key", [1, Hkv, "S", hd]), _f32("present_value", [1, Hkv, "S", hd])],
        "hidden_out = hidden + Attn(RMSNorm(hidden)); ffn_input = RMSNorm_ffn(hidden_out); S = P + T",
    )


def ffn_graph(dims: Dims) -> onnx.ModelProto:
    """x [T,d], w_gate [K,d] (gated only), w_up [K,d], w_down [K,d] → y [T,d] = Σ_k h_k · w_down[k]."""
    d = dims.d_model
    b = _Builder()
    up = b.op("Gemm", ["x", "w_up"], transB=1)                                          # [T,K], no Transpose copy
    pre = b.op("Gemm", ["x", "w_gate"], transB=1) if dims.ffn_gated else up
    act = b.op("Relu", [pre])
    if dims.ffn_activation == "squared_relu":
        act = b.op("Mul", [act, act])
    elif dims.ffn_activation != "relu":
        raise ValueError(f"unknown ffn activation {dims.ffn_activation}")
    h = b.op("Mul", [act, up]) if dims.ffn_gated else act                               # [T,K]
    b.op("MatMul", [h, "w_down"], name="y")                                             # [T,d]
    weights = (["w_gate"] if dims.ffn_gated else []) + ["w_up", "w_down"]
    return b.model("ffn", [_f32("x", ["T", d])] + [_f32(n, ["K", d]) for n in weights], [_f32("y", ["T", d])],
                   f"gated={dims.ffn_gated} activation={dims.ffn_activation}")


def head_graph(dims: Dims, w: dict[str, np.ndarray]) -> onnx.ModelProto:
    """hidden [1,T,d] → logits [1,T,V] = RMSNorm_final(hidden) · lm_head_t + logit_bias."""
    b = _Builder()
    for name in ["final_norm.weight", "lm_head_t", "logit_bias"]:
        b.const(name, w[name].astype(np.float32))
    eps = b.const("norm_eps", np.array(dims.norm_eps, dtype=np.float32))
    x = b.rms_norm("hidden", "final_norm.weight", eps)
    b.op("Add", [b.op("MatMul", [x, "lm_head_t"]), "logit_bias"], name="logits")
    return b.model("head", [_f32("hidden", [1, "T", dims.d_model])], [_f32("logits", [1, "T", dims.vocab])],
                   "logits = RMSNorm_final(hidden) · lm_head_t + logit_bias")


def save_graphs(model_dir, dims: Dims, embed_weight: np.ndarray, attn: list[dict[str, np.ndarray]],
                head: dict[str, np.ndarray]) -> None:
    """Writes embed.onnx, attn.<l>.onnx per layer, ffn.onnx and head.onnx into model_dir."""
    onnx.save(embed_graph(dims, embed_weight), str(model_dir / "embed.onnx"))
    for l, weights in enumerate(attn):
        onnx.save(attention_graph(dims, weights), str(model_dir / f"attn.{l}.onnx"))
    onnx.save(ffn_graph(dims), str(model_dir / "ffn.onnx"))
    onnx.save(head_graph(dims, head), str(model_dir / "head.onnx"))
