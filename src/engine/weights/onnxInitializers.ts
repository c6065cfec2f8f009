// Reads named float32 initializers out of an ONNX file's bytes, so the WebAssembly kernels can use
// the same weights the graph holds (models/pipeline/graphs.py names them). Only what the model's
// graphs use is read: ModelProto.graph (field 7) → GraphProto.initializer (field 5) → TensorProto
// dims (1), data_type (2), float_data (4), name (8), raw_data (9). Everything else is skipped.
import { ModelFileCorruptError } from '../errors';

export interface Initializer {
  dims: number[];
  /** The values, row-major, as their own copy (not a view on the file's bytes). */
  data: Float32Array;
}

const FLOAT = 1; // TensorProto.DataType.FLOAT

/** The float32 initializers named in `shapes` from the ONNX model `bytes` (file `file`), each with
 *  the dims given there (what the manifest's architecture implies). Throws ModelFileCorruptError
 *  when one is missing, not float32, of other dims, or its data does not match its dims. */
export function readInitializers(bytes: Uint8Array, shapes: Record<string, readonly number[]>, file: string): Map<string, Initializer> {
  const names = Object.keys(shapes);
  const wanted = new Set(names);
  const found = new Map<string, Initializer>();
  try {
    const graph = fields(bytes).find((f) => f.field === 7 && f.bytes);
    if (!graph?.bytes) throw new Error('it holds no graph');
    for (const f of fields(graph.bytes)) {
      if (f.field !== 5 || !f.bytes) continue;
      const tensor = readTensor(f.bytes);
      if (!wanted.has(tensor.name)) continue;
      if (tensor.dataType !== FLOAT) throw new Error(`initializer ${tensor.name} is not float32`);
      const count = tensor.dims.reduce((n, d) => n * d, 1);
      if (tensor.data.length !== count) throw new Error(`initializer ${tensor.name} has ${tensor.data.length} values for dims [${tensor.dims.join(', ')}]`);
      found.set(tensor.name, { dims: tensor.dims, data: tensor.data });
    }
  } catch (e) {
    throw new ModelFileCorruptError(file, `its weights cannot be read: ${(e as Error).message}`);
  }
  const missing = names.filter((n) => !found.has(n));
  if (missing.length) throw new ModelFileCorruptError(file, `it has no initializer ${missing.join(', ')}`);
  for (const [name, dims] of Object.entries(shapes)) {
    const got = found.get(name)!.dims;
    if (got.join() !== dims.join()) throw new ModelFileCorruptError(file, `initializer ${name} has dims [${got.join(', ')}], the manifest's architecture needs [${dims.join(', ')}]`);
  }
  return found;
}

interface Field { field: number; value: number; bytes?: Uint8Array }

function readTensor(bytes: Uint8Array): { name: string; dataType: number; dims: number[]; data: Float32Array } {
  let name = '', dataType = 0;
  const dims: number[] = [];
  let raw: Uint8Array | undefined;
  let floats: Uint8Array | undefined;
  for (const f of fields(bytes)) {
    if (f.field === 1) {
      if (f.bytes) { // packed
        for (let at = 0; at < f.bytes.length;) { const [v, next] = varint(f.bytes, at); dims.push(v); at = next; }
      } else dims.push(f.value);
    } else if (f.field === 2) dataType = f.value;
    else if (f.field === 8 && f.bytes) name = new TextDecoder().decode(f.bytes);
    else if (f.field === 9 && f.bytes) raw = f.bytes;
    else if (f.field === 4 && f.bytes) floats = f.bytes;
  }
  const source = raw ?? floats ?? new Uint8Array(0);
  if (source.length % 4 !== 0) throw new Error(`initializer ${name} has ${source.length} data bytes, not a whole number of floats`);
  const data = new Float32Array(source.length / 4);
  new Uint8Array(data.buffer).set(source); // little-endian, as ONNX stores raw_data and the platform reads it
  return { name, dataType, dims, data };
}

/** The top-level fields of one protobuf message. Length-delimited fields come as views. */
function fields(bytes: Uint8Array): Field[] {
  const out: Field[] = [];
  let at = 0;
  while (at < bytes.length) {
    const [key, afterKey] = varint(bytes, at);
    const field = Math.floor(key / 8), wire = key % 8;
    at = afterKey;
    if (wire === 0) {
      const [value, next] = varint(bytes, at);
      out.push({ field, value });
      at = next;
    } else if (wire === 2) {
      const [length, start] = varint(bytes, at);
      if (start + length > bytes.length) throw new Error('a field runs past the end of the file');
      out.push({ field, value: length, bytes: bytes.subarray(start, start + length) });
      at = start + length;
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else throw new Error(`unknown protobuf wire type ${wire}`);
  }
  if (at !== bytes.length) throw new Error('a field runs past the end of the file');
  return out;
}

/** A varint's value (up to 2^53) and the offset after it. */
function varint(bytes: Uint8Array, at: number): [number, number] {
  let value = 0, scale = 1;
  for (let i = 0; i < 10; i++) {
    if (at >= bytes.length) throw new Error('the file ends inside a number');
    const b = bytes[at++];
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, at];
    scale *= 128;
  }
  throw new Error('a number is longer than 10 bytes');
}
