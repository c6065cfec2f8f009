// Fits a prompt to a token budget: context goes first (last-listed, least important, first), the
// middle of the code last. Says what was left out, in words a person reads.
import { formatTokens } from '../common/formatTokens';
import { cutText, type CountTokens } from './cut';
import type { TaskInput } from './types';

export interface Fitted {
  input: TaskInput;
  /** Tokens of render(input) after fitting; above the budget only when even the bare header is. */
  tokens: number;
  notices: string[];
}

/** A sliver of context is not worth its header line: below this, the chunk goes whole. */
const MIN_CHUNK_TOKENS = 32;

export async function fitPrompt(input: TaskInput, budgetTokens: number, render: (input: TaskInput) => string, count: CountTokens): Promise<Fitted> {
  const notices: string[] = [];
  let current = input;
  let total = await count(render(current));

  for (let i = current.context.length - 1; i >= 0 && total > budgetTokens; i--) {
    const chunk = current.context[i];
    const chunkTokens = await count(chunk.text);
    let kept = { text: chunk.text, tokens: chunkTokens };
    while (total > budgetTokens && kept.text !== '') {
      const room = kept.tokens - (total - budgetTokens);
      kept = room < MIN_CHUNK_TOKENS ? { text: '', tokens: 0 } : await cutText(kept.text, kept.tokens, room, 'head', count);
      current = withChunkText(current, i, kept.text);
      total = await count(render(current));
    }
    notices.push(kept.text === ''
      ? `left out: ${chunk.label} (${formatTokens(chunkTokens)})`
      : `left out: part of ${chunk.label} (${formatTokens(chunkTokens - kept.tokens)})`);
  }

  if (total > budgetTokens) {
    const code = current.target.code;
    const codeTokens = await count(code);
    let kept = { text: code, tokens: codeTokens, leftOutLines: 0 };
    while (total > budgetTokens && kept.text !== '') {
      kept = await cutText(code, codeTokens, kept.tokens - (total - budgetTokens), 'ends', count);
      current = { ...current, target: { ...current.target, code: kept.text } };
      total = await count(render(current));
    }
    const what = `left out: ${kept.leftOutLines.toLocaleString('en-US')} lines from the middle of the code (${formatTokens(codeTokens - kept.tokens)})`;
    notices.push(input.kind === 'refactor' ? `${what} — the rewrite cannot include them; review the diff before applying` : what);
  }
  return { input: current, tokens: total, notices };
}

function withChunkText(input: TaskInput, index: number, text: string): TaskInput {
  const context = text === ''
    ? input.context.filter((_, i) => i !== index)
    : input.context.map((c, i) => (i === index ? { ...c, text } : c));
  return { ...input, context };
}
