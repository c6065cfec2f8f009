// Fits a prompt to a token budget: context goes first (last-listed, least important, first), the
// middle of the code last. Says what was left out, in words a person reads.
import { formatTokens } from '../common/formatTokens';
import { cutText, lineCount, type CountTokens, type Cut } from './cut';
import type { TaskInput } from './types';

export interface Fitted {
  input: TaskInput;
  /** Tokens of render(input) after fitting; above the budget only when even the bare header is. */
  tokens: number;
  notices: string[];
}

type Render = (input: TaskInput) => string;

/** A sliver of context is not worth its header line: below this, the chunk goes whole. */
const MIN_CHUNK_TOKENS = 32;

export async function fitPrompt(input: TaskInput, budgetTokens: number, render: Render, count: CountTokens): Promise<Fitted> {
  const notices: string[] = [];
  let fit = { input, tokens: await count(render(input)) };

  for (let i = input.context.length - 1; i >= 0 && fit.tokens > budgetTokens; i--) {
    const { label, text } = input.context[i];
    const at = fit.input;
    const step = await shrink(text, (t) => withChunkText(at, i, t), fit.tokens, budgetTokens, MIN_CHUNK_TOKENS, render, count);
    fit = step;
    notices.push(step.kept.text === ''
      ? `left out: ${label} (${formatTokens(step.originalTokens)})`
      : `left out: part of ${label} (${formatTokens(step.originalTokens - step.kept.tokens)})`);
  }

  if (fit.tokens > budgetTokens) {
    const at = fit.input;
    const step = await shrink(input.target.code, (code) => ({ ...at, target: { ...at.target, code } }), fit.tokens, budgetTokens, 1, render, count);
    fit = step;
    const what = `left out: ${step.kept.leftOutLines.toLocaleString('en-US')} lines from the middle of the code (${formatTokens(step.originalTokens - step.kept.tokens)})`;
    notices.push(input.kind === 'refactor' ? `${what} — the rewrite cannot include them; review the diff before applying` : what);
  }
  return { ...fit, notices };
}

/** Cuts the middle out of one piece of the prompt until the whole fits, or the piece is gone.
 *  Each round cuts the original again with less room, so markers never nest. */
async function shrink(original: string, place: (text: string) => TaskInput, tokens: number, budgetTokens: number, minKeepTokens: number, render: Render, count: CountTokens) {
  const originalTokens = await count(original);
  let kept: Cut = { text: original, tokens: originalTokens, leftOutLines: 0 };
  let input = place(original);
  while (tokens > budgetTokens && kept.text !== '') {
    const room = kept.tokens - (tokens - budgetTokens);
    kept = room < minKeepTokens ? { text: '', tokens: 0, leftOutLines: lineCount(original) } : await cutText(original, originalTokens, room, 'ends', count);
    input = place(kept.text);
    tokens = await count(render(input));
  }
  return { input, tokens, kept, originalTokens };
}

function withChunkText(input: TaskInput, index: number, text: string): TaskInput {
  const context = text === ''
    ? input.context.filter((_, i) => i !== index)
    : input.context.map((c, i) => (i === index ? { ...c, text } : c));
  return { ...input, context };
}
