"""The code model in PyTorch: the architecture of models/FORMAT.md (Llama-style, RMSNorm, rotate-half
RoPE, grouped-query attention, ReLU-family FFN), so export_model.py can write it as format v1 and the
engine computes the same function.

Shapes: B batch, T tokens, d model width, H query heads, Hkv key/value heads, hd head size, F FFN
neurons, V vocabulary.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class ModelConfig:
    vocab: int
    d_model: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    ffn_size: int
    ffn_activation: str = "relu"      # "relu" | "squared_relu"
    ffn_gated: bool = True
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5
    context_tokens: int = 512
    tied_embeddings: bool = True

    def __post_init__(self) -> None:
        if self.heads * self.head_dim != self.d_model:
            raise ValueError(f"heads × headDim ({self.heads}×{self.head_dim}) must equal dModel {self.d_model}")
        if self.heads % self.kv_heads:
            raise ValueError(f"heads {self.heads} must be a multiple of kvHeads {self.kv_heads}")
        if self.ffn_activation not in ("relu", "squared_relu"):
            raise ValueError(f"ffn_activation must be relu or squared_relu, not {self.ffn_activation!r}")

    @classmethod
    def from_json(cls, path: Path) -> "ModelConfig":
        return cls(**json.loads(Path(path).read_text())["model"])

    def as_dict(self) -> dict:
        return asdict(self)


class RmsNorm(nn.Module):
    def __init__(self, d: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_inv_freq(head_dim: int, theta: float) -> torch.Tensor:
    """[hd/2]: what attn.<l>.onnx stores as rope.inv_freq."""
    return 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)).float()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    a, b = x.chunk(2, dim=-1)
    return torch.cat([-b, a], dim=-1)


ATTENTION_KINDS = ("explicit", "sdpa")


class AttentionUnavailableError(Exception):
    """The attention implementation asked for needs a newer torch than the one running."""


class Attention(nn.Module):
    """kind "explicit": mask-and-softmax (torch 1.13, what the ONNX graphs compute); "sdpa":
    F.scaled_dot_product_attention, causal (torch ≥ 2.0: the fused kernels that train on a GPU about
    2× faster, DESIGN.md §5). Same function: tests/test_lm_sdpa.py checks equal logits."""

    def __init__(self, c: ModelConfig, kind: str = "explicit"):
        super().__init__()
        if kind not in ATTENTION_KINDS:
            raise ValueError(f"attention must be one of {ATTENTION_KINDS}, not {kind!r}")
        if kind == "sdpa" and not hasattr(F, "scaled_dot_product_attention"):
            raise AttentionUnavailableError(
                f"attention 'sdpa' needs torch >= 2.0 (this is {torch.__version__}); use 'explicit' or a newer torch")
        self.c = c
        self.kind = kind
        self.wq = nn.Linear(c.d_model, c.heads * c.head_dim, bias=False)
        self.wk = nn.Linear(c.d_model, c.kv_heads * c.head_dim, bias=False)
        self.wv = nn.Linear(c.d_model, c.kv_heads * c.head_dim, bias=False)
        self.wo = nn.Linear(c.heads * c.head_dim, c.d_model, bias=False)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        c = self.c
        q = self.wq(x).view(B, T, c.heads, c.head_dim).transpose(1, 2)        # [B,H,T,hd]
        k = self.wk(x).view(B, T, c.kv_heads, c.head_dim).transpose(1, 2)     # [B,Hkv,T,hd]
        v = self.wv(x).view(B, T, c.kv_heads, c.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        group = c.heads // c.kv_heads                                          # query head h uses kv head h // group
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        if self.kind == "sdpa":
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True)       # [B,H,T,hd]
            return self.wo(out.transpose(1, 2).reshape(B, T, c.heads * c.head_dim))
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(c.head_dim) + mask    # [B,H,T,T]
        out = scores.softmax(-1) @ v                                          # [B,H,T,hd]
        return self.wo(out.transpose(1, 2).reshape(B, T, c.heads * c.head_dim))


class Ffn(nn.Module):
    """h = act(W_gate x) ⊙ (W_up x) (gated) or act(W_up x); y = W_down h. Returns y and h, whose exact
    zeros are the sparsity the flash engine exploits."""

    def __init__(self, c: ModelConfig):
        super().__init__()
        self.c = c
        self.gate = nn.Linear(c.d_model, c.ffn_size, bias=False) if c.ffn_gated else None
        self.up = nn.Linear(c.d_model, c.ffn_size, bias=False)
        self.down = nn.Linear(c.ffn_size, c.d_model, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        up = self.up(x)
        act = F.relu(self.gate(x) if self.gate is not None else up)
        if self.c.ffn_activation == "squared_relu":
            act = act * act
        h = act * up if self.gate is not None else act
        return self.down(h), act


class Block(nn.Module):
    def __init__(self, c: ModelConfig, attention: str = "explicit"):
        super().__init__()
        self.attn_norm = RmsNorm(c.d_model, c.norm_eps)
        self.attn = Attention(c, attention)
        self.ffn_norm = RmsNorm(c.d_model, c.norm_eps)
        self.ffn = Ffn(c)

    def forward(self, x, cos, sin, mask):
        x = x + self.attn(self.attn_norm(x), cos, sin, mask)
        y, act = self.ffn(self.ffn_norm(x))
        return x + y, act


class CodeLm(nn.Module):
    """attention: "explicit" or "sdpa" (Attention); it changes how, not what, the model computes, so a
    state dict trained with one loads into the other."""

    def __init__(self, c: ModelConfig, attention: str = "explicit"):
        super().__init__()
        self.c = c
        self.embed = nn.Embedding(c.vocab, c.d_model)
        self.blocks = nn.ModuleList(Block(c, attention) for _ in range(c.layers))
        self.final_norm = RmsNorm(c.d_model, c.norm_eps)
        self.head = None if c.tied_embeddings else nn.Linear(c.d_model, c.vocab, bias=False)
        self.register_buffer("inv_freq", rope_inv_freq(c.head_dim, c.rope_theta), persistent=False)
        self._init()

    def _init(self) -> None:
        std = 0.02
        for name, p in self.named_parameters():
            if p.dim() == 2:
                # Residual outputs scaled down with depth (GPT-2), everything else N(0, 0.02²).
                scale = 1 / math.sqrt(2 * self.c.layers) if name.endswith(("wo.weight", "down.weight")) else 1.0
                nn.init.normal_(p, 0.0, std * scale)

    def lm_head_weight(self) -> torch.Tensor:
        return self.embed.weight if self.head is None else self.head.weight   # [V,d]

    def forward(self, ids: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """ids [B,T] → logits [B,T,V] and per layer the FFN activations [B,T,F]."""
        B, T = ids.shape
        pos = torch.arange(T, device=ids.device, dtype=torch.float32)
        freqs = pos[:, None] * self.inv_freq[None, :]
        angles = torch.cat([freqs, freqs], dim=-1)                            # [T,hd]
        cos, sin = angles.cos()[None, None], angles.sin()[None, None]
        mask = torch.full((T, T), float("-inf"), device=ids.device).triu(1)  # unused by "sdpa" (is_causal)
        x = self.embed(ids)
        acts = []
        for block in self.blocks:
            x, act = block(x, cos, sin, mask)
            acts.append(act)
        logits = self.final_norm(x) @ self.lm_head_weight().t()
        return logits, acts

    def parameter_count(self) -> dict:
        total = sum(p.numel() for p in self.parameters())
        embed = self.embed.weight.numel()
        head = 0 if self.head is None else self.head.weight.numel()
        ffn = sum(p.numel() for b in self.blocks for p in b.ffn.parameters())
        return {"total": total, "embedding": embed, "head": head, "ffn": ffn, "nonEmbedding": total - embed - head}
