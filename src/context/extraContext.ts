// Extra context for a completion prompt, from outside the window around the cursor: recently
// edited or viewed code of other files, then the file's own header (the signatures of the scopes
// around the cursor; imports and definitions above the window when asked for). It goes at the very
// start of the prefix, so it changes only when the window start, the scopes around the cursor or
// the other files' chunks change — not on every keystroke — and the engine reuses the prompt's
// cached keys and values.
//
// Code-v1 completes no better with it (held-out FIM tasks, mean edit similarity): other files'
// chunks (of two files of the same package) 0.138 against 0.146 without (0.1375 with <|file_sep|>
// between them); the file's header: ./fileHeader. flashcode.completion.extraContext is off by
// default.

import { fileHeader, type HeaderParts } from './fileHeader';
import type { CodeChunk, RecentChunks } from './recentChunks';
import type { Outline } from './outline';
import type { CompletionRequest, ExtraContextSource } from './types';

/** What the header needs of src/context/syntax.ts's SyntaxService. */
export interface OutlineFinder {
  outline(key: string, text: string, cursor: number, languageId: string, budgetMs?: number): Outline | undefined;
}

export interface ExtraContextOptions {
  outlines?: OutlineFinder;
  recent?: RecentChunks;
  /** Between chunks of other files, and between them and the header. */
  separator?: string;
  /** The most one call's outline may block (ms); tests on a loaded machine give more. */
  outlineBudgetMs?: number;
  /** What the file's header shows (default: what helps the bundled model, ./fileHeader). */
  header?: HeaderParts;
}

/** Documents longer than this get no header: reading and comparing their text per engine call
 *  would cost more than the header is worth. */
export const MAX_OUTLINE_CHARS = 200_000;
/** The most an engine call's outline may block the extension host. Re-parsing an edit takes a
 *  millisecond or two; a first parse of a long file (~25 ms for 2,000 lines) goes on over several
 *  calls, which get no header until it is done. */
const DEFAULT_OUTLINE_BUDGET_MS = 8;
const DEFAULT_SEPARATOR = '\n';

export class ExtraContext implements ExtraContextSource {
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
    const text = document.slice(0, document.length);
    const outline = outlines.outline(fileName, text, offset, languageId, this.options.outlineBudgetMs ?? DEFAULT_OUTLINE_BUDGET_MS);
    return outline ? fileHeader(text, outline, windowStart, maxChars, this.options.header) : '';
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
