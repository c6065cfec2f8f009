// One scripted typing session on one file, through a CompletionPipeline as the inline provider drives
// it: open the file at a cursor in the middle (the first request), then re-type the file's next
// lines key by key at human speed. Each keystroke cancels the request before it (VS Code cancels its
// token when the document changes) and makes a new one. Tab is pressed when the suggestion shown is
// what comes next; Enter brings the next line's indentation with it, as the editor's auto-indent does.

import { setTimeout as sleep } from 'node:timers/promises';
import type { CompletionPipeline } from '../src/completion/pipeline';
import type { CompletionSettings, CompletionSource } from '../src/completion/types';

export interface SessionFile {
  path: string;
  languageId: string;
  text: string;
  /** 1-based line of the cursor. */
  cursorLine: number;
  /** The script: text.slice(start, end) is typed at `start`, and is missing from the document until typed. */
  start: number;
  end: number;
}

export interface TimedResult {
  ms: number;
  source: CompletionSource;
}

export interface SessionResult {
  first: TimedResult | undefined;
  /** Answered requests made by keystrokes. */
  incremental: TimedResult[];
  keystrokes: number;
  /** Tab presses among the keystrokes. */
  accepts: number;
  /** Requests that a newer keystroke cancelled before they were answered. */
  superseded: number;
}

/** Milliseconds between keystrokes: 60–120, from a fixed seed so every run types alike. */
export function keyIntervals(seed: number): () => number {
  let state = seed >>> 0;
  return () => { // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return 60 + 60 * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  };
}

/** How long the user looks at the first suggestion before typing (ms). */
const READ_MS = 300;

export async function typeSession(
  pipeline: CompletionPipeline, file: SessionFile, settings: CompletionSettings, nextIntervalMs: () => number,
): Promise<SessionResult> {
  const script = file.text.slice(file.start, file.end);
  const before = file.text.slice(0, file.start);
  const after = file.text.slice(file.end);
  let typed = 0; // characters of the script in the document
  const request = () => ({ document: before + script.slice(0, typed) + after, offset: before.length + typed, languageId: file.languageId, fileName: file.path });

  const result: SessionResult = { first: undefined, incremental: [], keystrokes: 0, accepts: 0, superseded: 0 };
  /** The suggestion on screen: the answer to the request made at `typed`, while nothing was typed since. */
  let shown: { text: string; typed: number } | undefined;
  const ask = (signal?: AbortSignal) => {
    const at = typed;
    const startMs = performance.now();
    return pipeline.complete(request(), settings, signal).then((r) => {
      if (!r) return undefined;
      if (typed === at) shown = { text: r.text, typed: at };
      return { ms: performance.now() - startMs, source: r.source };
    });
  };

  result.first = await ask();
  await sleep(READ_MS);
  let controller: AbortController | undefined;
  const answers: Promise<void>[] = [];
  while (typed < script.length) {
    await sleep(nextIntervalMs());
    const rest = script.slice(typed);
    const tab = shown?.typed === typed && shown.text !== '' && rest.startsWith(shown.text);
    typed += tab ? shown!.text.length : nextKey(rest).length;
    result.keystrokes++;
    if (tab) result.accepts++;
    shown = undefined;
    controller?.abort();
    controller = new AbortController();
    answers.push(ask(controller.signal).then((r) => {
      if (r) result.incremental.push(r);
      else result.superseded++;
    }));
  }
  await Promise.all(answers);
  await pipeline.idle();
  return result;
}

/** What one key press adds: a character, or a line break with the next line's indentation. */
function nextKey(rest: string): string {
  if (rest[0] === '\n') return /^\n[ \t]*/.exec(rest)![0];
  return String.fromCodePoint(rest.codePointAt(0)!);
}

/** The session's cursor in `text`: the first run of `lines` lines, from the middle of the file on,
 *  that is indented code (inside a body), has no blank or comment line, and is 40–240 characters
 *  long. The cursor sits after the first line's indentation; the script ends at the last line's end. */
export function sessionCursor(text: string, lines: number): Pick<SessionFile, 'cursorLine' | 'start' | 'end'> {
  const all = text.split('\n');
  const offsets: number[] = [];
  for (let i = 0, at = 0; i < all.length; at += all[i].length + 1, i++) offsets.push(at);
  for (let l = Math.floor(all.length / 2); l + lines <= all.length; l++) {
    const block = all.slice(l, l + lines);
    if (!/^[ \t]+\S/.test(block[0]) || block.some((line) => line.trim() === '' || /^\s*(#|\/\/|\/\*|\*)/.test(line))) continue;
    const chars = block.join('\n').trim().length;
    if (chars < 40 || chars > 240) continue;
    const start = offsets[l] + /^[ \t]*/.exec(block[0])![0].length;
    return { cursorLine: l + 1, start, end: offsets[l + lines - 1] + block[lines - 1].length };
  }
  throw new Error(`no ${lines} lines of indented code from the middle on`);
}
