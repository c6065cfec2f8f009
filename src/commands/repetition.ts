// Degenerate model output: a small model at temperature 0 can fall into a loop and write the same
// sentence or line until its token limit ("The debounced function is a function that is passed to
// the debounced function." over and over, from SmolLM2 on Explain). Found as a stretch of text
// that follows itself at a fixed distance, several times in a row.

export interface Repetition {
  /** Where the repeated text starts, and where to cut the answer: after its first copy, at the
   *  next sentence or line end. */
  start: number;
  cutAt: number;
  /** One copy of what repeats: the one that ends at `cutAt`. */
  unit: string;
  /** Copies in a row, the first included. */
  repeats: number;
}

export interface RepetitionOptions {
  /** Copies in a row that make a loop. Prose: 3; code repeats itself more legitimately: 4. */
  minRepeats?: number;
  /** Shorter repeated units count only over SHORT_LOOP_CHARS: `}` lines, `end`s, `ha ha`. */
  minUnitChars?: number;
  /** The longest: a loop of whole paragraphs is rare and costly to look for. */
  maxUnitChars?: number;
}

/** A unit shorter than minUnitChars (`math/`, seen from the bundled model as `math/math/math/…`)
 *  makes a loop only over this many characters: `} } }` and `ha ha ha` are shorter. */
const SHORT_LOOP_CHARS = 80;

/** The earliest loop in `text`, or undefined. O(text length × maxUnitChars). */
export function findRepetition(text: string, { minRepeats = 3, minUnitChars = 12, maxUnitChars = 400 }: RepetitionOptions = {}): Repetition | undefined {
  let best: { start: number; period: number } | undefined;
  for (let period = 2; period <= Math.min(maxUnitChars, Math.floor(text.length / minRepeats)); period++) {
    const needed = period < minUnitChars ? Math.max((minRepeats - 1) * period, SHORT_LOOP_CHARS - period) : (minRepeats - 1) * period;
    let run = 0;
    // Stop looking past the best start found: only an earlier loop could replace it.
    const end = Math.min(text.length - period, best ? best.start + needed : Infinity);
    for (let i = 0; i < end; i++) {
      run = text.charCodeAt(i) === text.charCodeAt(i + period) ? run + 1 : 0;
      if (run < needed) continue;
      const start = i - run + 1;
      if (isLoopUnit(text.slice(start, start + period))) {
        if (!best || start < best.start) best = { start, period };
        break;
      }
    }
  }
  if (!best) return undefined;
  const { start, period } = best;
  let repeats = 1;
  while (text.startsWith(text.slice(start, start + period), start + repeats * period)) repeats++;
  const cutAt = boundaryAfter(text, start + period, start + 2 * period);
  // The copy that ends at the cut, so that it reads from a sentence's or a line's start.
  return { start, cutAt, unit: text.slice(cutAt - period, cutAt), repeats };
}

/** Text with a word in it that is not itself a shorter repetition (`-----`, `ab ab ab `): that
 *  one is found at its own, shorter period. */
function isLoopUnit(unit: string): boolean {
  if (!/\p{L}{2}/u.test(unit)) return false;
  for (let p = 1; p < unit.length; p++) {
    if (unit.length % p === 0 && unit.slice(p) === unit.slice(0, -p)) return false;
  }
  return true;
}

/** The first line or sentence end at or after `at` (the copy may start mid-sentence), else `at`
 *  when there is none before `limit`. */
function boundaryAfter(text: string, at: number, limit: number): number {
  const match = /[.!?](?=\s)|\n/g;
  match.lastIndex = Math.max(0, at - 1);
  const found = match.exec(text);
  return found && found.index < limit ? found.index + 1 : at;
}

/** `text` cut before a loop in it, and a note saying so; `text` as it is when it has none. */
export function cutRepetition(text: string, options?: RepetitionOptions): { text: string; note: string | undefined } {
  const loop = findRepetition(text, options);
  if (!loop) return { text, note: undefined };
  return {
    text: text.slice(0, loop.cutAt).trimEnd(),
    note: `the answer began repeating itself (“${preview(loop.unit)}” ${loop.repeats} times), so it was cut after the first time`,
  };
}

export function preview(unit: string, chars = 60): string {
  const line = unit.replace(/\s+/g, ' ').trim();
  return line.length > chars ? `${line.slice(0, chars - 1)}…` : line;
}
