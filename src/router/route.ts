// Local when the prompt and its answer fit the local window; else the cloud when the user allows
// it; else local with the prompt cut, saying why the cloud was not used.
import { formatTokens } from '../common/formatTokens';
import type { Route, RouteInput } from './types';

export function route(input: RouteInput): Route {
  const { promptTokens, answerTokens, localWindowTokens, cloud } = input;
  if (promptTokens + answerTokens <= localWindowTokens) return { target: 'local' };
  const cut = (reason: string): Route => ({
    target: 'local-cut',
    promptBudgetTokens: Math.max(0, localWindowTokens - answerTokens),
    reason: `too long for the local model (a prompt of ${formatTokens(promptTokens)}) and ${reason}`,
  });
  if (input.targetExcluded) return cut('the file matches flashcode.cloud.exclude, so it never goes to the cloud');
  if (!cloud.enabled) return cut('the cloud model is off — turn on flashcode.cloud.enabled to send long tasks to it');
  if (!cloud.configured) {
    return cut("the cloud model is not set up — set flashcode.cloud.baseUrl and flashcode.cloud.model, and run 'Flashcode: Set Cloud API Key'");
  }
  if (cloud.consent === 'denied') return cut('you declined sending code to the cloud model for this workspace');
  if (promptTokens + answerTokens > cloud.maxContextTokens) {
    return cut(`too long even for the cloud model (flashcode.cloud.maxContextTokens is ${cloud.maxContextTokens.toLocaleString('en-US')})`);
  }
  return { target: 'cloud', askConsent: cloud.consent === 'unasked' };
}

