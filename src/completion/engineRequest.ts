// What one engine call is asked, from a request's window: the prompt (extra context, then the text
// before the cursor; the text after it) and the generation settings (a single line or not, the
// token and time budgets). The pipeline's stage between clipping and the engine. Pure but for
// the extra context source.

import type { GenerateRequest, PromptBudget } from '../engine';
import { clipAroundCursor, type ClipLimits } from './clip';
import { isMultiLine } from './lineMode';
import { acceptedContext, type Shown } from './prefetch';
import type { ClippedContext, CompletionRequest, CompletionSettings, CursorContext, ExtraContextSource } from './types';

/** One request's cursor, cut to the prompt's budget. */
export interface Window {
  request: CompletionRequest;
  context: ClippedContext;
  budget: PromptBudget;
}

/** What one engine call completes. */
export interface JobInput {
  /** The cursor as requests see it: what identifies the call and its cache entry, and what its
   *  output is post-processed against. */
  context: CursorContext;
  /** VS Code language id of the document ('' when unknown). */
  languageId: string;
  /** What the prompt shows the model: extra context (src/context/extraContext.ts) and the text
   *  before the cursor, and the text after it. */
  prompt: { prefix: string; suffix: string };
}

/** The engine call for the window's cursor, or for where accepting `accepted` there leads: extra
 *  context (`extra`, when on) from the document as it is now, before the window's start; when
 *  there is none, the window takes the room kept for it. */
export function jobInput({ request, context: cursor, budget }: Window, extra: ExtraContextSource | undefined, accepted?: Shown): JobInput {
  const at = (context: ClippedContext, limits: ClipLimits) => (accepted ? acceptedContext(context, accepted, limits) : context);
  const context = at(cursor, budget.clip);
  const extraText = extra ? extra.gather(request, context.prefixStart, budget.extraChars) : '';
  const window = extraText === '' && budget.extraChars > 0
    ? at(clipAroundCursor(request.document, request.offset, budget.clipWithoutExtra), budget.clipWithoutExtra)
    : context;
  return { context, languageId: request.languageId, prompt: { prefix: extraText + window.prefix, suffix: window.suffix } };
}

/** Greedy, so that the same cursor always gets the same suggestion; one line unless the cursor's
 *  place asks for more (./lineMode). */
export function generateRequest({ context, prompt }: JobInput, settings: CompletionSettings): GenerateRequest {
  return {
    prompt: { kind: 'fim', prefix: prompt.prefix, suffix: prompt.suffix },
    maxNewTokens: settings.maxNewTokens,
    temperature: 0,
    topP: 1,
    seed: 0,
    timeBudgetMs: settings.timeBudgetMs,
    stopStrings: isMultiLine(context, settings.mode ?? 'auto') ? undefined : ['\n'],
  };
}
