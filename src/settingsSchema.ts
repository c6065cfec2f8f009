// Every Flashcode setting: key, default and bounds, in one table. package.json's
// contributes.configuration declares the same (a unit test holds them together); the host reads
// them through src/host/settings.ts and the CLI takes its defaults from here. Beside the entry
// points, above every folder: it names the settings of all of them.

import { DEFAULT_LANGUAGES } from './common/completionGate';
import { COMPLETION_MODES, type CompletionMode } from './completion/types';
import { BACKEND_SETTINGS, type BackendSetting } from './engine/gpu/backendSetting';
import { DEFAULT_EXCLUDE_PATTERNS } from './privacy/exclude';

export interface NumberSetting {
  key: string;
  default: number;
  minimum: number;
  maximum: number;
}

export const SETTINGS = {
  completionEnabled: { key: 'flashcode.completion.enabled', default: true },
  completionLanguages: { key: 'flashcode.completion.languages', default: DEFAULT_LANGUAGES },
  pauseOnBattery: { key: 'flashcode.completion.pauseOnBattery', default: true },
  maxTokens: { key: 'flashcode.completion.maxTokens', default: 32, minimum: 1, maximum: 256 },
  timeBudgetMs: { key: 'flashcode.completion.timeBudgetMs', default: 1500, minimum: 100, maximum: 10_000 },
  debounceMs: { key: 'flashcode.completion.debounceMs', default: 30, minimum: 0, maximum: 1000 },
  prefetch: { key: 'flashcode.completion.prefetch', default: true },
  completionMode: { key: 'flashcode.completion.mode', default: 'auto' as CompletionMode, values: COMPLETION_MODES },
  // Off: code-v1 completes no better with it (src/context/fileHeader.ts, README).
  extraContext: { key: 'flashcode.completion.extraContext', default: false },
  modelPath: { key: 'flashcode.engine.modelPath', default: '' },
  // 2: a v2 model's prompt read 1.76× as fast as on 1 on an idle 2-core machine, 1.16× at load
  // 2–4 and no slower at load 5–7 (bench:peers, SmolLM2-135M); it decoded 1.06–1.16× as fast on an
  // idle machine, and 0.84× with a busy loop on the other core (bench/peers/child.ts, ModelV2's
  // DECODE_TRIAL_TOKENS); a prompt on that busy machine read at 0.78–0.85× until its layers chose
  // their way too (PREFILL_TRIAL_LAYERS), then at 1.0× (157.7 and 160.2 against 156.0 and 161.7 tok/s).
  threads: { key: 'flashcode.engine.threads', default: 2, minimum: 1, maximum: 8 },
  sparseFfn: { key: 'flashcode.engine.sparseFfn', default: true },
  memoryBudgetMB: { key: 'flashcode.engine.memoryBudgetMB', default: 0, minimum: 0, maximum: 65536 },
  neuronWindowTokens: { key: 'flashcode.engine.neuronWindowTokens', default: 5, minimum: 1, maximum: 64 },
  backend: { key: 'flashcode.engine.backend', default: 'auto' as BackendSetting, values: BACKEND_SETTINGS },
  cloudEnabled: { key: 'flashcode.cloud.enabled', default: false },
  cloudBaseUrl: { key: 'flashcode.cloud.baseUrl', default: 'https://api.openai.com/v1' },
  cloudModel: { key: 'flashcode.cloud.model', default: 'gpt-4o-mini' },
  cloudMaxContextTokens: { key: 'flashcode.cloud.maxContextTokens', default: 128_000, minimum: 4096, maximum: 10_000_000 },
  cloudTimeoutMs: { key: 'flashcode.cloud.timeoutMs', default: 30_000, minimum: 1000, maximum: 600_000 },
  cloudExclude: { key: 'flashcode.cloud.exclude', default: DEFAULT_EXCLUDE_PATTERNS },
  localMaxTokens: { key: 'flashcode.router.localMaxTokens', default: 2048, minimum: 256, maximum: 1_000_000 },
  hubUrl: { key: 'flashcode.models.hubUrl', default: 'https://huggingface.co' },
} as const satisfies Record<string, { key: string; default: unknown; minimum?: number; maximum?: number; values?: readonly unknown[] }>;

/** The settings a change of which loads the model again. */
export const ENGINE_SETTINGS = [SETTINGS.modelPath, SETTINGS.threads, SETTINGS.sparseFfn, SETTINGS.memoryBudgetMB, SETTINGS.neuronWindowTokens, SETTINGS.backend];

/** An integer within the setting's bounds; the default for anything that is not a finite number
 *  (VS Code does not enforce a schema on what it hands back). */
export function boundedInteger(value: unknown, setting: NumberSetting): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return setting.default;
  return Math.min(setting.maximum, Math.max(setting.minimum, Math.round(value)));
}
