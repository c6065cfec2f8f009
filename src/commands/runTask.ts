// Explain / Refactor end to end: screen out excluded files → count the prompt → route → (ask
// consent) → cloud or local model, streaming → a cloud failure falls back to local → the answer,
// judged: an Explain loop cut, a Refactor proposal that must not be applied refused.
import { streamChat } from '../cloud/client';
import { cloudHost, isCloudConfigured } from '../cloud/config';
import { badBaseUrl, CloudError } from '../cloud/errors';
import type { ChatMessage } from '../cloud/types';
import { AbortedError } from '../common/abortable';
import { declined, localCut, route, type LocalRoute } from '../router/route';
import type { RouteInput } from '../router/types';
import { answerLocally, LOCAL_ANSWER_TOKENS } from './answerLocally';
import { asSentence } from './notices';
import { refuseProposal } from './proposalCheck';
import { buildMessages, localPromptText } from './prompts';
import { extractRefactorCode } from './refactorOutput';
import { cutRepetition } from './repetition';
import { screenExcluded } from './screen';
import type { AnsweredBy, TaskCallbacks, TaskDeps, TaskInput, TaskResult } from './types';

/** Most answer tokens asked of the cloud model; a rewrite repeats the code, so it gets more. */
const CLOUD_ANSWER_TOKENS = { explain: 1024, refactor: 4096 } as const;

export async function runTask(input: TaskInput, deps: TaskDeps, callbacks: TaskCallbacks = {}): Promise<TaskResult> {
  const started = performance.now();
  const { signal, onText, onRoute } = callbacks;
  const screened = screenExcluded(input, deps.excludePatterns);
  const notices = [...screened.notices];
  const { info } = deps.engine;
  const routeInput: RouteInput = {
    promptTokens: await deps.engine.countTokens(localPromptText(screened.input, info)),
    codeTokens: await deps.engine.countTokens(localPromptText({ ...screened.input, context: [] }, info)),
    answerTokens: LOCAL_ANSWER_TOKENS,
    localWindowTokens: Math.min(info.contextTokens, deps.localMaxTokens),
    localWindowBy: deps.localMaxTokens < info.contextTokens ? 'setting' : 'model',
    targetExcluded: screened.targetExcluded,
    preferCloud: input.preferCloud,
    cloud: { enabled: deps.cloud.enabled, configured: isCloudConfigured(deps.cloud), consent: deps.consent, maxContextTokens: deps.cloud.maxContextTokens },
  };
  throwIfAborted(signal);
  const decision = route(routeInput);

  let localRoute: LocalRoute;
  if (decision.target === 'cloud') {
    const messages = buildMessages(screened.input);
    try {
      if (decision.askConsent && !(await consented(deps, messages, signal))) {
        localRoute = declined(routeInput);
      } else {
        onRoute?.(decision);
        const maxTokens = cloudAnswerTokens(input, deps.cloud.maxContextTokens - routeInput.promptTokens);
        const answer = await streamChat(deps.cloud, { messages, maxTokens, signal, onText });
        if (answer.cutNotice) notices.push(answer.cutNotice);
        return await finish(answer.text, { kind: 'cloud', model: answer.model, host: answer.host });
      }
    } catch (error) {
      if (!(error instanceof CloudError)) throw error; // an abort is not a failure to fall back from
      localRoute = localCut(routeInput, `the cloud model failed: ${error.message}`);
    }
  } else {
    localRoute = decision;
  }

  onRoute?.(localRoute);
  if (localRoute.target === 'local-cut') notices.unshift(localRoute.reason);
  const answer = await answerLocally(screened.input, localRoute, deps.engine, callbacks);
  notices.push(...answer.notices);
  return await finish(answer.text, { kind: 'local', model: deps.engine.info.displayName });

  /** Explain: a loop in the answer is cut, with a note. Refactor: the code, and whether it may be
   *  offered at all. */
  async function finish(text: string, answeredBy: AnsweredBy): Promise<TaskResult> {
    const result = (answer: string, refused?: string): TaskResult =>
      ({ text: answer, answeredBy, totalMs: performance.now() - started, notices: notices.map(asSentence), ...(refused && { refused }) });
    if (input.kind === 'explain') {
      const cut = cutRepetition(text);
      if (cut.note) notices.push(cut.note);
      return result(cut.text);
    }
    const code = extractRefactorCode(text, input.target.code);
    return result(code, await refuseProposal(input.target.code, code, input.target.languageId, deps.codeReader));
  }
}

/** Shows the user exactly what would be sent; a malformed base URL fails before anyone is asked. */
async function consented(deps: TaskDeps, messages: ChatMessage[], signal: AbortSignal | undefined): Promise<boolean> {
  const host = cloudHost(deps.cloud.baseUrl);
  if (host === undefined) throw badBaseUrl();
  const agreed = await deps.askConsent({ host, model: deps.cloud.model, messages });
  throwIfAborted(signal);
  return agreed;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError();
}

/** What is left of the cloud window after the prompt (as the local tokenizer counts it), capped. */
function cloudAnswerTokens(input: TaskInput, roomTokens: number): number {
  return Math.max(LOCAL_ANSWER_TOKENS, Math.min(CLOUD_ANSWER_TOKENS[input.kind], roomTokens));
}
