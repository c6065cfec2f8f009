"""A format-v1 manifest.json (models/FORMAT.md §1) before its measured blocks: identity, architecture,
FIM tokens, stop tokens, graph and ffn.bin names. Written by make_fixture.py and export_model.py; the
key order is the file's (json.dumps keeps it), so both write the same layout."""
from __future__ import annotations

FIM_ORDERS = ("psm", "spm")


def v1_manifest(*, model_id: str, display_name: str, notes: str, architecture: dict, context_tokens: int,
                fim_order: str = "psm") -> dict:
    """architecture: the manifest's block (family, layers, dModel, ...); its `layers` names the graphs."""
    if fim_order not in FIM_ORDERS:
        raise ValueError(f"export.fimOrder {fim_order!r} must be psm or spm")
    return {
        "format": "flashcode-model",
        "formatVersion": 1,
        "id": model_id,
        "displayName": display_name,
        "notes": notes,
        "architecture": architecture,
        "contextTokens": context_tokens,
        "fim": {
            "order": fim_order, "prefixToken": "<|fim_prefix|>", "suffixToken": "<|fim_suffix|>",
            "middleToken": "<|fim_middle|>", "endOfTextToken": "<|endoftext|>", "fileSeparatorToken": "<|file_sep|>",
        },
        "stopTokens": ["<|endoftext|>", "<|file_sep|>"],
        "graphs": {
            "embed": "embed.onnx", "attention": [f"attn.{l}.onnx" for l in range(architecture["layers"])],
            "ffn": "ffn.onnx", "head": "head.onnx",
        },
        "ffn": {"file": "ffn.bin"},
    }
