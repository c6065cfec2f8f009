// The local half of a task: cut the prompt to the route's budget when it says so, then generate
// greedily on the local engine, streaming.
import type { Engine } from '../engine';
import type { LocalRoute } from '../router/route';
import { fitPrompt } from './fit';
import { buildLocalParts, localPromptText } from './prompts';
import type { TaskCallbacks, TaskInput } from './types';

/** Fits the 2,048-token fixture with room for a prompt; a paragraph or a function's worth. */
export const LOCAL_ANSWER_TOKENS = 256;
/** A bound on one local answer (prefill and decode), so a slow machine never leaves it hanging. */
const LOCAL_TIME_BUDGET_MS = 60_000;

export async function answerLocally(
  input: TaskInput,
  decision: LocalRoute,
  engine: Engine,
  callbacks: TaskCallbacks,
): Promise<{ text: string; notices: string[] }> {
  const fitted = decision.target === 'local-cut'
    ? await fitPrompt(input, decision.promptBudgetTokens, (i) => localPromptText(i, engine.info), (text) => engine.countTokens(text))
    : { input, notices: [] };
  const result = await engine.generate(
    {
      prompt: buildLocalParts(fitted.input, engine.info),
      maxNewTokens: LOCAL_ANSWER_TOKENS,
      ...sampling(input.attempt ?? 0),
      timeBudgetMs: LOCAL_TIME_BUDGET_MS,
    },
    { signal: callbacks.signal, onText: callbacks.onText },
  );
  return { text: result.text, notices: fitted.notices };
}

/** Greedy for the first try; a retry samples, each with its own seed. */
function sampling(attempt: number): { temperature: number; topP: number; seed: number } {
  return attempt === 0 ? { temperature: 0, topP: 1, seed: 0 } : { temperature: 0.7, topP: 0.95, seed: attempt };
}
