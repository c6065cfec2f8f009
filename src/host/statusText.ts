// What the status bar item says, as a pure function of the state (vscode-free, unit-tested): a short
// text ("Flashcode 42 ms · 180 tok/s"), the details in the tooltip.

import type { Gate } from '../common/completionGate';
import { formatTokens } from '../common/formatTokens';
import type { CompletionResult } from '../completion/types';
import type { GenerateResult, ModelInfo } from '../engine';
import type { EngineState } from './engineState';
import { ffnNoticeText } from './ffnNotice';

export interface StatusView {
  text: string;
  tooltip: string;
  isError: boolean;
}

/** The last suggestion shown, as the status bar reports it. */
export interface LastCompletion {
  latencyMs: number;
  source: CompletionResult['source'];
  /** The model had nothing to suggest there (or post-processing dropped all of it). */
  empty: boolean;
  /** Of the engine call that produced it; 0 from the cache. */
  promptTokens: number;
  /** Decode rate of that engine call; undefined from the cache or when too short to measure. */
  tokensPerSecond: number | undefined;
}

export interface StatusInput {
  state: EngineState;
  /** For the active editor's language, as an automatic request there would see it. */
  gate: Gate;
  last: LastCompletion | undefined;
}

const LABEL = '$(sparkle) Flashcode';

export function describeStatus({ state, gate, last }: StatusInput): StatusView {
  if (state.kind === 'error') {
    return {
      text: `${LABEL}: error`,
      tooltip: `Flashcode could not load the model from ${state.modelDir}.\n${state.message}\nCompletions are off until it loads.`,
      isError: true,
    };
  }
  if (gate.kind === 'off') {
    return { text: `${LABEL}: off`, tooltip: 'Flashcode inline completions are off. Click for the menu to turn them on.', isError: false };
  }
  if (gate.kind === 'off-language') {
    return {
      text: `${LABEL}: off for ${gate.languageId}`,
      tooltip: [
        `Flashcode inline completions are off for ${gate.languageId} files (setting flashcode.completion.languages).`,
        'Run "Flashcode: Toggle Completions for This Language" to turn them on.',
        'Click for the menu: turn inline completions off everywhere, choose a model, show the log.',
      ].join('\n'),
      isError: false,
    };
  }
  if (state.kind === 'loading') {
    return { text: `${LABEL}: loading…`, tooltip: `Flashcode is loading the model from ${state.modelDir}.`, isError: false };
  }
  const details = [
    `Model: ${state.info.displayName} (${state.info.id}), reads at most ${formatTokens(state.info.contextTokens)} at a time (prompt and answer together)`,
    `Backend: ${state.info.backend}, ${state.threads} thread${state.threads === 1 ? '' : 's'}, in a worker thread${state.info.backendReason === undefined ? '' : ` — ${state.info.backendReason}`}`,
    `FFN: ${describeFfn(state.info.ffn)}${state.info.ffn.notice === undefined ? '' : ` — ${ffnNoticeText(state.info.ffn.notice)}`}`,
    `Prompts: ${describePrompts(state.info)}`,
    `Last completion: ${describeLast(last)}`,
  ];
  if (gate.kind === 'paused') {
    return {
      text: `${LABEL}: paused (battery)`,
      tooltip: [
        'Flashcode pauses automatic suggestions while this computer runs on battery power (setting flashcode.completion.pauseOnBattery).',
        '"Trigger Inline Suggestion" (Alt+\\) still asks the model.',
        ...details,
        'Click for the menu: turn inline completions off, choose a model, show the log.',
      ].join('\n'),
      isError: false,
    };
  }
  return {
    text: last ? `${LABEL} ${shortLast(last)}` : `${LABEL}: ready`,
    tooltip: ['Flashcode is ready.', ...details, 'Click for the menu: turn inline completions off, choose a model, show the log.'].join('\n'),
    isError: false,
  };
}

/** How completions and Explain/Refactor talk to the model. */
export function describePrompts(info: Pick<ModelInfo, 'fim' | 'chat'>): string {
  const completions = info.fim
    ? 'completions fill in the middle (they see the code after the cursor too)'
    : 'this model has no fill-in-the-middle tokens, so completions continue the code before the cursor alone';
  const tasks = info.chat ? `Explain and Refactor use its chat template (${info.chat})` : 'Explain and Refactor use a plain-text prompt (no chat template)';
  return `${completions}; ${tasks}`;
}

/** How the feed-forward layers run: "sparse (all neurons in memory)", "sparse, 1,412 of 4,096
 *  neurons cached (…)" or "dense". */
export function describeFfn(ffn: ModelInfo['ffn']): string {
  if (ffn.mode === 'dense') return 'dense';
  if (ffn.fullyResident) return 'sparse (all neurons in memory)';
  if (ffn.residentNeurons === undefined || ffn.neurons === undefined) return 'sparse';
  return `sparse, ${ffn.residentNeurons.toLocaleString('en-US')} of ${ffn.neurons.toLocaleString('en-US')} neurons cached (the others read from disk when needed)`;
}

/** The status bar's view of a suggestion and of the engine call that finished last. */
export function lastCompletion(
  result: Pick<CompletionResult, 'text' | 'latencyMs' | 'source' | 'promptTokens'>,
  generation: Pick<GenerateResult, 'generatedTokens' | 'ttfsMs' | 'totalMs'> | undefined,
): LastCompletion {
  const fromEngine = result.source !== 'cache';
  return {
    latencyMs: result.latencyMs,
    source: result.source,
    empty: result.text === '',
    promptTokens: result.promptTokens,
    tokensPerSecond: fromEngine && generation ? decodeTokensPerSecond(generation) : undefined,
  };
}

/** Tokens after the first over the time after the first streamed text: the decode rate, prompt
 *  processing left out. Undefined below two tokens or without time to divide by. */
export function decodeTokensPerSecond(g: Pick<GenerateResult, 'generatedTokens' | 'ttfsMs' | 'totalMs'>): number | undefined {
  const decodeMs = g.totalMs - g.ttfsMs;
  return g.generatedTokens >= 2 && decodeMs > 0 ? ((g.generatedTokens - 1) * 1000) / decodeMs : undefined;
}

function shortLast(last: LastCompletion): string {
  const rate = last.empty ? 'no suggestion'
    : last.source === 'cache' ? 'cached'
    : last.tokensPerSecond === undefined ? undefined
      : `${Math.round(last.tokensPerSecond)} tok/s`;
  return [`${Math.round(last.latencyMs)} ms`, rate].filter((part) => part !== undefined).join(' · ');
}

function describeLast(last: LastCompletion | undefined): string {
  if (!last) return 'none yet';
  const latency = `${Math.round(last.latencyMs)} ms`;
  if (last.empty) return `${latency}, no suggestion: the model had nothing to add there, or only what the code already holds ("Trigger Inline Suggestion", Alt+\\, asks it again)`;
  if (last.source === 'cache') return `${latency}, from the cache (what you typed matched an earlier suggestion)`;
  return [
    latency,
    last.tokensPerSecond === undefined ? undefined : `${Math.round(last.tokensPerSecond)} tokens/s decoding`,
    `${last.promptTokens} prompt tokens`,
    last.source === 'inflight' ? 'continuing a model call already running' : undefined,
  ].filter((part) => part !== undefined).join(', ');
}
