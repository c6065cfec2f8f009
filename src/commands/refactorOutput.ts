// The replacement code in a model's answer: the first fenced block (even one the answer never
// closed), else the whole answer; line ends and the final newline follow the original code.

export function extractRefactorCode(answer: string, original: string): string {
  const code = firstFencedBlock(answer) ?? answer;
  const eol = original.includes('\r\n') ? '\r\n' : '\n';
  const body = trimBlankLines(code.replace(/\r\n/g, '\n'));
  const endsWithNewline = /\r?\n$/.test(original);
  return (endsWithNewline && body !== '' ? `${body}\n` : body).replace(/\n/g, eol);
}

/** The body of the first ``` or ~~~ fence; undefined when the answer holds none. */
function firstFencedBlock(answer: string): string | undefined {
  const lines = answer.replace(/\r\n/g, '\n').split('\n');
  const open = lines.findIndex((l) => /^[ \t]*(`{3,}|~{3,})/.test(l));
  if (open < 0) return undefined;
  const [, indent, marker] = /^([ \t]*)(`{3,}|~{3,})/.exec(lines[open])!;
  // A closing fence uses the same character, at least as many of them, and nothing after.
  const closes = new RegExp(`^\\s*\\${marker[0]}{${marker.length},}\\s*$`);
  const close = lines.findIndex((l, i) => i > open && closes.test(l));
  // As in CommonMark, the body loses up to the opening fence's indentation.
  const outdent = new RegExp(`^[ \\t]{0,${indent.length}}`);
  return lines.slice(open + 1, close < 0 ? undefined : close).map((l) => l.replace(outdent, '')).join('\n');
}

/** Drops blank lines at both ends and trailing spaces, keeping the first line's indentation. */
function trimBlankLines(text: string): string {
  return text.replace(/^(?:[ \t]*\n)+/, '').trimEnd();
}
