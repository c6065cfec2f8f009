// Local when the prompt and its answer fit the local window; local with the context around the
// code cut when the code and the answer fit; else the cloud when the user allows it; else local
// with the code cut too, saying the local model's limit and why the cloud was not used.
import { formatTokens } from '../common/formatTokens';
import type { Route, RouteInput } from './types';

export function route(input: RouteInput): Route {
  const { promptTokens, answerTokens, localWindowTokens, cloud } = input;
  const codeFits = (input.codeTokens ?? promptTokens) + answerTokens <= localWindowTokens;
  if (!input.preferCloud || !cloudAllowed(input)) {
    if (promptTokens + answerTokens <= localWindowTokens) return { target: 'local' };
    if (codeFits) return { target: 'local-cut', promptBudgetTokens: budget(input), reason: `${windowOf(input)}, so the code around it was shortened` };
  }
  if (input.targetExcluded) return localCut(input, 'the file matches flashcode.cloud.exclude, so it never goes to the cloud');
  if (!cloud.enabled) return localCut(input, 'the cloud model is off — turn on flashcode.cloud.enabled to send long tasks to it');
  if (!cloud.configured) {
    return localCut(input, "the cloud model is not set up — set flashcode.cloud.baseUrl and flashcode.cloud.model, and run 'Flashcode: Set Cloud API Key'");
  }
  if (cloud.consent === 'denied') return declined(input);
  if (promptTokens + answerTokens > cloud.maxContextTokens) {
    return localCut(input, `it is too long even for the cloud model (flashcode.cloud.maxContextTokens is ${cloud.maxContextTokens.toLocaleString('en-US')})`);
  }
  return { target: 'cloud', askConsent: cloud.consent === 'unasked' };
}

/** On, set up, not refused, the file not excluded, and the task within its window. */
function cloudAllowed({ targetExcluded, cloud, promptTokens, answerTokens }: RouteInput): boolean {
  return !targetExcluded && cloud.enabled && cloud.configured && cloud.consent !== 'denied' && promptTokens + answerTokens <= cloud.maxContextTokens;
}

export type LocalRoute = Exclude<Route, { target: 'cloud' }>;

/** The route once the user said no to sending this task to the cloud. */
export function declined(input: RouteInput): LocalRoute {
  return localCut(input, 'you declined sending code to the cloud model for this workspace');
}

/** Local with the prompt cut to leave room for the answer; `why` the cloud is not used. Also the
 *  route after a cloud failure. */
export function localCut(input: RouteInput, why: string): LocalRoute {
  const code = formatTokens(input.codeTokens ?? input.promptTokens);
  return {
    target: 'local-cut',
    promptBudgetTokens: budget(input),
    reason: `the code is too long for the local model: with the instruction it takes ${code}, and ${windowOf(input)}; ${why}`,
  };
}

function budget(input: RouteInput): number {
  return Math.max(0, input.localWindowTokens - input.answerTokens);
}

/** The local model's limit, in words: "the local model reads at most 512 tokens (its context
 *  window), 256 of them kept for the answer". */
function windowOf({ localWindowTokens, localWindowBy, answerTokens }: RouteInput): string {
  const by = localWindowBy === 'setting' ? 'flashcode.router.localMaxTokens' : 'its context window';
  return `the local model reads at most ${formatTokens(localWindowTokens)} (${by}), ${answerTokens.toLocaleString('en-US')} of them kept for the answer`;
}
