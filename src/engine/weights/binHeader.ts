// The fixed fields that ffn.bin and predictors.bin both start with (models/FORMAT.md §3 and §4):
// magic (4 ASCII bytes), then u32 little-endian version, header size, layers, dModel, ffnSize, dtype
// and flags. Each reader checks the rest of its own header.
import { ModelFileCorruptError, ModelFormatUnsupportedError } from '../errors';

export interface CommonHeader {
  view: DataView;
  version: number;
  headerBytes: number;
  layers: number;
  dModel: number;
  ffnSize: number;
  dtype: number;
  flags: number;
}

/** Reads the common fields of `buf`; throws naming `name` when it is shorter than `fixedBytes`,
 *  has another magic, or a version not in `versions` (`supported` says which, for the message). */
export function readCommonHeader(
  buf: Uint8Array, name: string, magic: string, versions: readonly number[], supported: string | number, fixedBytes: number,
): CommonHeader {
  if (buf.length < fixedBytes) throw new ModelFileCorruptError(name, `truncated: ${buf.length} bytes, shorter than the header`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const found = String.fromCharCode(buf[0], buf[1], buf[2], buf[3]);
  if (found !== magic) throw new ModelFileCorruptError(name, `bad magic "${found}"`);
  const version = view.getUint32(4, true);
  if (!versions.includes(version)) throw new ModelFormatUnsupportedError(name, version, supported);
  const u32 = (at: number) => view.getUint32(at, true);
  return { view, version, headerBytes: u32(8), layers: u32(12), dModel: u32(16), ffnSize: u32(20), dtype: u32(24), flags: u32(28) };
}
