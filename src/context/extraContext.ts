// Extra context for a completion prompt, from outside the window around the cursor: recently
// edited or viewed code of other files, then the file's own header (imports, the signatures of the
// scopes around the cursor, definitions above the window). It goes at the very start of the prefix,
// so it changes only when the window start, the scopes around the cursor or the other files' chunks
// change — not on every keystroke — and the engine reuses the prompt's cached keys and values.

import type { CompletionRequest, ExtraContextSource } from '../completion/types';
import { fileHeader } from './fileHeader';
import type { CodeChunk, RecentChunks } from './recentChunks';
import type { Outline } from './syntax';

/** What the header needs of src/context/syntax.ts's SyntaxService. */
export interface OutlineFinder {
  outline(key: string, text: string, cursor: number, languageId: string, budgetMs?: number): Outline | undefined;
}

export interface ExtraContextOptions {
  outlines?: OutlineFinder;
  recent?: RecentChunks;
  /** Between chunks of other files, and between them and the header. */
  separator?: string;
}

/** Documents longer than this get no header: their first parse would block for too long. */
export const MAX_OUTLINE_CHARS = 100_000;
/** A first parse of a ~2,500-line file takes about this long; later ones re-parse only the edit. */
const OUTLINE_BUDGET_MS = 20;
const DEFAULT_SEPARATOR = '\n';

export class ExtraContext implements ExtraContextSource {
  /** Length of a file's text whose outline ran out of time: not tried again unless it shrinks. */
  private readonly tooSlow = new Map<string, number>();

  constructor(private readonly options: ExtraContextOptions) {}

  gather(request: CompletionRequest, windowStart: number, maxChars: number): string {
    const separator = this.options.separator ?? DEFAULT_SEPARATOR;
    const header = this.header(request, windowStart, maxChars);
    const room = maxChars - header.length - (header === '' ? 0 : separator.length);
    const others = fitChunks(this.options.recent?.from(request.fileName) ?? [], room, separator);
    if (others === '') return header;
    return header === '' ? others : others + separator + header;
  }

  private header({ document, offset, fileName, languageId }: CompletionRequest, windowStart: number, maxChars: number): string {
    const outlines = this.options.outlines;
    if (!outlines || windowStart <= 0 || maxChars <= 0 || document.length > MAX_OUTLINE_CHARS) return '';
    if ((this.tooSlow.get(fileName) ?? Infinity) <= document.length) return '';
    const text = document.slice(0, document.length);
    const startMs = performance.now();
    const outline = outlines.outline(fileName, text, offset, languageId, OUTLINE_BUDGET_MS);
    if (!outline) {
      if (performance.now() - startMs >= OUTLINE_BUDGET_MS) this.tooSlow.set(fileName, Math.floor(text.length * 0.8));
      return '';
    }
    this.tooSlow.delete(fileName);
    return fileHeader(text, outline, windowStart, maxChars);
  }
}

/** The most recent chunks that fit in `maxChars`, oldest first (the most recent nearest the
 *  file's own code); a chunk that does not fit whole gives its first lines. */
function fitChunks(chunks: readonly CodeChunk[], maxChars: number, separator: string): string {
  const kept: string[] = [];
  let room = maxChars;
  for (const chunk of chunks) {
    const cost = separator.length;
    if (room - cost <= 0) break;
    const text = chunk.text.length <= room - cost ? chunk.text : firstLines(chunk.text, room - cost);
    if (text === '') break;
    kept.unshift(text);
    room -= text.length + cost;
  }
  return kept.join(separator);
}

function firstLines(text: string, maxChars: number): string {
  const end = text.lastIndexOf('\n', maxChars - 1);
  return end < 0 ? '' : text.slice(0, end + 1);
}
