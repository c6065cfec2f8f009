// Every Flashcode setting: key, default and bounds, in one table. package.json's
// contributes.configuration declares the same (a unit test holds them together); the host reads
// them through src/host/settings.ts and the CLI takes its defaults from here.

export interface NumberSetting {
  key: string;
  default: number;
  minimum: number;
  maximum: number;
}

export const SETTINGS = {
  completionEnabled: { key: 'flashcode.completion.enabled', default: true },
  maxTokens: { key: 'flashcode.completion.maxTokens', default: 32, minimum: 1, maximum: 256 },
  timeBudgetMs: { key: 'flashcode.completion.timeBudgetMs', default: 1500, minimum: 100, maximum: 10_000 },
  modelPath: { key: 'flashcode.engine.modelPath', default: '' },
  threads: { key: 'flashcode.engine.threads', default: 1, minimum: 1, maximum: 8 },
} as const satisfies Record<string, { key: string; default: unknown; minimum?: number; maximum?: number }>;

/** An integer within the setting's bounds; the default for anything that is not a finite number
 *  (VS Code does not enforce a schema on what it hands back). */
export function boundedInteger(value: unknown, setting: NumberSetting): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return setting.default;
  return Math.min(setting.maximum, Math.max(setting.minimum, Math.round(value)));
}
