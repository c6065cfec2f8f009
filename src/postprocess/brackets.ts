// Which closing brackets and quotes in a suggestion close something opened before it. Filters use
// this so that a pair the suggestion opens and closes itself is never mistaken for a duplicate of
// what follows the cursor. A light scan, not a parser: strings are skipped, comments are not.

const OPENERS = '([{';
const OPENER_OF: Readonly<Record<string, string>> = { ')': '(', ']': '[', '}': '{' };
const QUOTES = '"\'`';

interface ScanResult {
  /** Offsets of closing brackets, and of the quotes that end a string opened before the text. */
  unmatched: Set<number>;
  /** The quote of a string still open at the end of the text ('' when none). */
  openQuote: string;
}

/** Scans `text`, which starts inside a string of `quote` when one is given. Single and double
 *  quoted strings end at a newline; backtick and triple-quoted ones do not. */
export function scanBrackets(text: string, quote = ''): ScanResult {
  const unmatched = new Set<number>();
  const open: string[] = [];
  let inherited = quote !== '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== '') {
      if (c === '\\') i++;
      else if (c === '\n' && quote.length === 1 && quote !== '`') [quote, inherited] = ['', false];
      else if (text.startsWith(quote, i)) {
        if (inherited) for (let j = 0; j < quote.length; j++) unmatched.add(i + j);
        i += quote.length - 1;
        [quote, inherited] = ['', false];
      }
    } else if (QUOTES.includes(c)) {
      quote = text.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
      i += quote.length - 1;
    } else if (OPENERS.includes(c)) {
      open.push(c);
    } else if (c in OPENER_OF) {
      if (open.at(-1) === OPENER_OF[c]) open.pop();
      else unmatched.add(i);
    }
  }
  return { unmatched, openQuote: quote };
}

/** Offsets of the closing brackets and quotes in `suggestion` that close what was opened before the
 *  cursor (for quotes: on the cursor's line, `lineBeforeCursor`). */
export function unmatchedClosers(suggestion: string, lineBeforeCursor: string): Set<number> {
  return scanBrackets(suggestion, scanBrackets(lineBeforeCursor).openQuote).unmatched;
}
