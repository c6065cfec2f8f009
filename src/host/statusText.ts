// What the status bar item says, as a pure function of the state (vscode-free, unit-tested).

import type { EngineState } from './engineState';

export interface StatusView {
  text: string;
  tooltip: string;
  isError: boolean;
}

const LABEL = '$(sparkle) Flashcode';

export function describeStatus(state: EngineState, enabled: boolean, lastLatencyMs: number | undefined): StatusView {
  if (state.kind === 'error') {
    return {
      text: `${LABEL}: error`,
      tooltip: `Flashcode could not load the model from ${state.modelDir}.\n${state.message}\nCompletions are off until it loads.`,
      isError: true,
    };
  }
  if (!enabled) {
    return { text: `${LABEL}: off`, tooltip: 'Flashcode inline completions are off. Click to turn them on.', isError: false };
  }
  if (state.kind === 'loading') {
    return { text: `${LABEL}: loading…`, tooltip: `Flashcode is loading the model from ${state.modelDir}.`, isError: false };
  }
  const latency = lastLatencyMs === undefined ? undefined : `${Math.round(lastLatencyMs)} ms`;
  return {
    text: latency ? `${LABEL}: ready · ${latency}` : `${LABEL}: ready`,
    tooltip: [
      `Flashcode — model: ${state.info.displayName} (${state.info.id})`,
      `Last completion: ${latency ?? 'none yet'}`,
      'Click to turn inline completions off.',
    ].join('\n'),
    isError: false,
  };
}
