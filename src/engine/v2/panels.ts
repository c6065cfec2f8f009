// The panel layout of a q8_32 matrix in the kernels' memory (kernels.wat, matmulQ8P): rows in
// panels of four, each panel block by block, a block 136 bytes — the four rows' 32 int8 quants,
// then their four scales as f16 bits (every q8_32 scale is an f16 value: FORMAT.md §Q); a last
// partial panel padded with zero rows. weights.bin and ffn.bin keep the row layout of FORMAT.md §Q
// (f32 scales); the loader rearranges each dense matrix once, in place.
import { f16Bits, f16Value } from '../weights/f16';

/** Bytes of one block of a panel: four rows' 32 quants and their four scales. */
export const PANEL_BLOCK_BYTES = 136;
const BLOCK_BYTES = PANEL_BLOCK_BYTES;

/** Arena bytes of a [rows][cols] matrix in panels. */
export function panelBytes(rows: number, cols: number): number {
  return Math.ceil(rows / 4) * (cols / 32) * BLOCK_BYTES;
}

/** Bytes to read a [rows][cols] matrix's row layout into and rearrange there (rowsToPanels,
 *  toPanels): the row layout is the larger (9/8 against 17/16 bytes a value) except for a last
 *  partial panel's padding. */
export function panelRoom(rows: number, cols: number): number {
  return Math.max(panelBytes(rows, cols), (rows * cols * 9) / 8);
}

/** Rewrites the row-layout matrix at mem[ptr…] (quants [rows][cols], then scales [rows][cols/32])
 *  as panels from the same address; mem must hold panelRoom(rows, cols) there. Panels go last to
 *  first: panel p lands at or after its own rows' quants (4.25 ≥ 4 bytes a column) and so only over
 *  bytes already moved; the scales are copied out first, as the panels overwrite them. */
export function rowsToPanels(mem: ArrayBufferLike, ptr: number, rows: number, cols: number): void {
  const nb = cols / 32;
  const scales = new Float32Array(mem, ptr + rows * cols, rows * nb).slice();
  const words = new Uint32Array(mem, ptr, panelRoom(rows, cols) / 4);
  const halves = new Uint16Array(mem, ptr, panelRoom(rows, cols) / 2);
  const rowWords = cols / 4;
  const panel = new Uint32Array(4 * rowWords); // one panel's quants, row layout
  for (let p = Math.ceil(rows / 4) - 1; p >= 0; p--) {
    const present = Math.min(4, rows - 4 * p);
    panel.fill(0);
    panel.set(words.subarray(4 * p * rowWords, (4 * p + present) * rowWords));
    const base = (p * nb * BLOCK_BYTES) / 4;
    for (let b = 0; b < nb; b++) {
      const at = base + (b * BLOCK_BYTES) / 4;
      for (let r = 0; r < 4; r++) {
        for (let w = 0; w < 8; w++) words[at + r * 8 + w] = panel[r * rowWords + b * 8 + w];
        halves[2 * (at + 32) + r] = r < present ? f16Bits(scales[(4 * p + r) * nb + b]) : 0;
      }
    }
  }
}

/** Row `row` of the panel matrix at mem[ptr…] ([rows][cols]) as floats into out[at…]. */
export function dequantPanelRow(mem: ArrayBufferLike, ptr: number, cols: number, row: number, out: Float32Array, at: number): void {
  const nb = cols / 32;
  const base = ptr + (row >> 2) * nb * BLOCK_BYTES;
  const lane = row & 3;
  const q = new Int8Array(mem, base, nb * BLOCK_BYTES);
  const s = new Uint16Array(mem, base, (nb * BLOCK_BYTES) / 2);
  for (let b = 0; b < nb; b++) {
    const scale = f16Value(s[(b * BLOCK_BYTES) / 2 + 64 + lane]);
    const from = b * BLOCK_BYTES + lane * 32;
    for (let i = 0; i < 32; i++) out[at + b * 32 + i] = q[from + i] * scale;
  }
}
