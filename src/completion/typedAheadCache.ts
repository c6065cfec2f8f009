// Suggestions already computed, found again while the user types them: "foo(bar)" computed at a
// prefix P also answers P + "fo", with "o(bar)", and no engine call. A cursor is identified by the
// text around it (the end of the prefix, the start of the suffix), not by document or version, so
// entries survive edits elsewhere and the same snippet in another file.

import type { StopReason } from '../engine';
import type { CursorContext } from './types';

/** Characters of context that identify a cursor: the model's output depends mostly on the nearest. */
const PREFIX_KEY_CHARS = 1024;
const SUFFIX_KEY_CHARS = 256;

export const DEFAULT_CACHE_ENTRIES = 64;

/** A post-processed engine output and what the engine said about it. */
export interface Suggestion {
  /** '' when post-processing dropped the model's output. */
  text: string;
  stopReason: StopReason;
  ttfsMs: number;
  promptTokens: number;
  generatedTokens: number;
  /** Computed speculatively, before any request asked for it. */
  fromPrefetch: boolean;
}

/** The text that identifies a cursor. */
export interface CursorKey {
  prefixTail: string;
  suffixHead: string;
}

export function cursorKey({ prefix, suffix }: CursorContext): CursorKey {
  return { prefixTail: prefix.slice(-PREFIX_KEY_CHARS), suffixHead: suffix.slice(0, SUFFIX_KEY_CHARS) };
}

export function sameCursor(a: CursorKey, b: CursorKey): boolean {
  return a.prefixTail === b.prefixTail && a.suffixHead === b.suffixHead;
}

/** The characters typed at `origin` to reach `context`, when they are the start of `text`;
 *  undefined when `context` is not `origin` plus some of `text`. */
export function typedSince(origin: CursorKey, context: CursorContext, text: string): string | undefined {
  const { prefix, suffix } = context;
  if (suffix.slice(0, SUFFIX_KEY_CHARS) !== origin.suffixHead) return undefined;
  const last = prefix.charCodeAt(prefix.length - 1);
  for (let typed = 0; typed <= Math.min(text.length, prefix.length); typed++) {
    if (typed > 0 && text.charCodeAt(typed - 1) !== last) continue; // cheap test before slicing
    const cursor = prefix.length - typed;
    if (prefix.slice(Math.max(0, cursor - PREFIX_KEY_CHARS), cursor) === origin.prefixTail && prefix.endsWith(text.slice(0, typed))) {
      return prefix.slice(cursor);
    }
  }
  return undefined;
}

/** What is left to suggest of `text` once `typed` has been typed: all of it when nothing was;
 *  undefined when the typing left it or used it up (the next suggestion is then a new one). */
export function continuation(text: string, typed: string): string | undefined {
  if (typed === '') return text;
  return text.length > typed.length && text.startsWith(typed) ? text.slice(typed.length) : undefined;
}

interface Entry extends CursorKey {
  suggestion: Suggestion;
}

/** A bounded LRU of suggestions by cursor. */
export class TypedAheadCache {
  /** By `keyString`; Map order is use order, least recent first. */
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity = DEFAULT_CACHE_ENTRIES) {}

  get size(): number {
    return this.entries.size;
  }

  put(context: CursorContext, suggestion: Suggestion): void {
    const key = cursorKey(context);
    const id = keyString(key);
    this.entries.delete(id);
    this.entries.set(id, { ...key, suggestion });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }

  has(context: CursorContext): boolean {
    return this.entries.has(keyString(cursorKey(context)));
  }

  /** A suggestion for `context`: the one made at this very cursor, else the rest of the most
   *  recently used one whose start the user has typed since. */
  lookup(context: CursorContext): { suggestion: Suggestion; text: string } | undefined {
    const exact = this.entries.get(keyString(cursorKey(context)));
    if (exact) return this.use(exact, exact.suggestion.text);
    for (const entry of [...this.entries.values()].reverse()) {
      const typed = typedSince(entry, context, entry.suggestion.text);
      const text = typed === undefined ? undefined : continuation(entry.suggestion.text, typed);
      if (text !== undefined) return this.use(entry, text);
    }
    return undefined;
  }

  private use(entry: Entry, text: string): { suggestion: Suggestion; text: string } {
    const id = keyString(entry);
    this.entries.delete(id);
    this.entries.set(id, entry);
    return { suggestion: entry.suggestion, text };
  }
}

function keyString({ prefixTail, suffixHead }: CursorKey): string {
  return `${prefixTail.length}:${prefixTail}${suffixHead}`;
}
