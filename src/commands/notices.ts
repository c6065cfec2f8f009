// Notices are written as clauses where they arise ("left out: the rest of a.ts (40 tokens)") and
// shown side by side in one notification, so each becomes a sentence of its own before it leaves
// runTask.

/** `notice` with a capital first letter and a full stop, unless it already ends a sentence. A
 *  first word that is a name (flashcode.cloud.exclude, src/a.ts) keeps its case. */
export function asSentence(notice: string): string {
  const text = notice.trim();
  if (text === '') return text;
  const capital = /^[^\s]*[./]/.test(text) ? text : text[0]!.toUpperCase() + text.slice(1);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
}
