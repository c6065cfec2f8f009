"""Dequantizes rows of one GGUF tensor with PyPI gguf's numpy reference and writes them to stdout as
little-endian f32 — what the importer's tests compare its own dequantization with.

usage: gguf-reference.py FILE TENSOR:FIRST_ROW:ROWS[:HEADS] ...   (each range, one after the other)
HEADS: undo llama.cpp's Q/K row permutation for that many heads (the inverse of
convert_hf_to_gguf.py's LlamaModel.permute: reshape(heads, 2, hd/2, cols).swapaxes(1, 2)).
"""
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


def main() -> None:
    reader = GGUFReader(sys.argv[1])
    tensors = {t.name: t for t in reader.tensors}
    for spec in sys.argv[2:]:
        name, first, count, *rest = spec.split(":")
        first, count, heads = int(first), int(count), int(rest[0]) if rest else 0
        tensor = tensors[name]
        cols = int(tensor.shape[0])
        x = dequantize(tensor.data, tensor.tensor_type).reshape(-1, cols)
        if heads:
            rows = x.shape[0]
            x = x.reshape(heads, rows // heads // 2, 2, cols).swapaxes(1, 2).reshape(rows, cols)
        sys.stdout.buffer.write(np.ascontiguousarray(x[first:first + count], dtype="<f4").tobytes())


if __name__ == "__main__":
    main()
