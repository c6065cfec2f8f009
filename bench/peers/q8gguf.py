"""Writes a Q8_0 copy of a GGUF: every Q4_1/Q4_0/F16 matrix dequantized and requantized to Q8_0
(1-D tensors kept), metadata copied. bench:peers runs llama.cpp and Flashcode on the same 8-bit
tensors with it. Needs PyPI gguf (scripts/import-venv.sh).

    .cache/import-venv/bin/python bench/peers/q8gguf.py IN.gguf OUT.gguf
"""
import sys

import gguf
import numpy as np

Q = gguf.GGMLQuantizationType


def main() -> None:
    src, dst = sys.argv[1], sys.argv[2]
    reader = gguf.GGUFReader(src)
    arch = reader.fields[gguf.Keys.General.ARCHITECTURE].contents()
    writer = gguf.GGUFWriter(dst, arch)
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        vtype = field.types[0]
        sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), vtype, sub_type=sub)
    for t in reader.tensors:
        if len(t.shape) < 2 or t.tensor_type in (Q.Q8_0, Q.F32):
            writer.add_tensor(t.name, t.data, raw_shape=t.data.shape, raw_dtype=t.tensor_type)
            continue
        values = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        q = gguf.quants.quantize(values, Q.Q8_0)
        writer.add_tensor(t.name, q, raw_shape=q.shape, raw_dtype=Q.Q8_0)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main()
