// Cutting one piece of text to a token count with an async counter (the engine's tokenizer, maybe
// in a worker): estimate from the characters-per-token ratio, count, shrink until it fits. Cuts
// fall on line ends where a line end is near, so the model sees whole lines.

export type CountTokens = (text: string) => Promise<number>;

export interface Cut {
  text: string;
  tokens: number;
  /** Lines wholly or partly removed. */
  leftOutLines: number;
}

/** Most counting rounds before giving up on the piece (each round shrinks it by at least 5%). */
const MAX_ROUNDS = 16;

/** Keeps the start ('head') or the start and the end ('ends', with a marker line between) of
 *  `text` within `maxTokens`. `tokens` is what `text` counts now. */
export async function cutText(text: string, tokens: number, maxTokens: number, keep: 'head' | 'ends', count: CountTokens): Promise<Cut> {
  if (tokens <= maxTokens) return { text, tokens, leftOutLines: 0 };
  let chars = Math.floor((text.length * maxTokens) / tokens);
  for (let round = 0; round < MAX_ROUNDS && chars > 0; round++) {
    const cut = keep === 'head' ? head(text, chars) : ends(text, chars);
    const cutTokens = await count(cut.text);
    if (cutTokens <= maxTokens) return { ...cut, tokens: cutTokens };
    chars = Math.floor(chars * Math.min(0.95, maxTokens / cutTokens));
  }
  return { text: '', tokens: 0, leftOutLines: lineCount(text) };
}

function head(text: string, chars: number): Omit<Cut, 'tokens'> {
  const end = snapBack(text, chars);
  return { text: text.slice(0, end), leftOutLines: lineCount(text.slice(end)) };
}

function ends(text: string, chars: number): Omit<Cut, 'tokens'> {
  const half = Math.floor(chars / 2);
  const headEnd = snapBack(text, half);
  const tailStart = snapForward(text, text.length - half);
  if (tailStart <= headEnd) return { text, leftOutLines: 0 };
  const leftOutLines = lineCount(text.slice(headEnd, tailStart));
  const before = text.slice(0, headEnd);
  const marker = `${before === '' || before.endsWith('\n') ? '' : '\n'}… (${leftOutLines} lines left out) …\n`;
  return { text: before + marker + text.slice(tailStart), leftOutLines };
}

/** Just after the last line end in the second half of text[0, at), else `at`. */
function snapBack(text: string, at: number): number {
  const nl = text.lastIndexOf('\n', at - 1);
  return nl >= at / 2 ? nl + 1 : at;
}

/** Just after the first line end in text[at, …) when it is near, else `at`. */
function snapForward(text: string, at: number): number {
  const nl = text.indexOf('\n', at);
  return nl >= 0 && nl - at <= (text.length - at) / 2 ? nl + 1 : at;
}

export function lineCount(text: string): number {
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}
