// Local when the prompt and its answer fit the local window; else the cloud when the user allows
// it; else local with the prompt cut, saying why the cloud was not used.
import { formatTokens } from '../common/formatTokens';
import type { Route, RouteInput } from './types';

export function route(input: RouteInput): Route {
  const { promptTokens, answerTokens, localWindowTokens, cloud } = input;
  if (promptTokens + answerTokens <= localWindowTokens) return { target: 'local' };
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

export type LocalRoute = Exclude<Route, { target: 'cloud' }>;

/** The route once the user said no to sending this task to the cloud. */
export function declined(input: RouteInput): LocalRoute {
  return localCut(input, 'you declined sending code to the cloud model for this workspace');
}

/** Local with the prompt cut to leave room for the answer; `why` the cloud is not used. Also the
 *  route after a cloud failure. */
export function localCut(input: RouteInput, why: string): LocalRoute {
  return {
    target: 'local-cut',
    promptBudgetTokens: Math.max(0, input.localWindowTokens - input.answerTokens),
    reason: `too long for the local model (a prompt of ${formatTokens(input.promptTokens)}) and ${why}`,
  };
}
