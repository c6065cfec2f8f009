// Token ids → text for streaming, through the bytes each token stands for (byte-level BPE): a
// character split across tokens shows only once its last byte arrives, and a byte sequence that
// can never be UTF-8 ends the text instead of becoming U+FFFD. Nor does text ever hold a control
// character other than newline (LF, CR) and tab (a model that emits NUL is not writing code).

/** GPT-2's byte ↔ printable-character map, as tokenizer.json vocabularies spell bytes. */
function byteOfChar(): Map<string, number> {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const map = new Map<string, number>();
  let next = 256;
  for (let b = 0; b < 256; b++) map.set(String.fromCodePoint(printable(b) ? b : next++), b);
  return map;
}

/** Each id's bytes, or undefined for special tokens (control, not text). */
export type TokenBytes = (Uint8Array | undefined)[];

/** From a byte-level vocabulary (token string → id); undefined if a token is not byte-level. */
export function byteLevelTable(vocab: Record<string, number>, added: { id: number; content: string; special?: boolean }[], size: number): TokenBytes | undefined {
  const map = byteOfChar();
  const table: TokenBytes = new Array(size).fill(undefined);
  for (const [token, id] of Object.entries(vocab)) {
    const bytes: number[] = [];
    for (const c of token) {
      const b = map.get(c);
      if (b === undefined) return undefined;
      bytes.push(b);
    }
    table[id] = Uint8Array.from(bytes);
  }
  for (const t of added) table[t.id] = t.special ? undefined : new TextEncoder().encode(t.content);
  return table;
}

/** Tab, newline and carriage return (CRLF files); no other control character. */
export function isAllowedChar(code: number): boolean {
  if (code === 0x09 || code === 0x0a || code === 0x0d) return true;
  return !(code < 0x20 || (code >= 0x7f && code < 0xa0));
}

/** Decodes a growing list of ids: `text` is every complete, valid character so far; `ended` is
 *  set at the first invalid byte sequence or disallowed control character (nothing after it
 *  counts). */
export class StreamDecoder {
  text = '';
  ended: 'invalid-utf8' | 'control-char' | undefined;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private pending: number[] = []; // bytes of a character not complete yet

  constructor(private readonly table: TokenBytes) {}

  push(id: number): void {
    if (this.ended) return;
    for (const b of this.table[id] ?? []) {
      this.pending.push(b);
      const need = utf8Length(this.pending[0]);
      if (need === 0 || (this.pending.length > 1 && (b & 0xc0) !== 0x80)) { this.ended = 'invalid-utf8'; return; }
      if (this.pending.length < need) continue;
      let char: string;
      try {
        char = this.decoder.decode(Uint8Array.from(this.pending));
      } catch {
        this.ended = 'invalid-utf8'; // overlong, surrogate or beyond U+10FFFF
        return;
      }
      this.pending = [];
      if (!isAllowedChar(char.codePointAt(0)!)) { this.ended = 'control-char'; return; }
      this.text += char;
    }
  }
}

/** Bytes in the UTF-8 sequence a lead byte starts; 0 for a byte that cannot start one. */
function utf8Length(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}
