// Types for scripts/start-options.mjs (plain Node ESM, imported by a TypeScript test).

export const START_FLAGS: Readonly<Record<'--no-build' | '--verbose' | '--reset', string>>;
export function parseStartArgs(argv: string[]): { build: boolean; verbose: boolean; reset: boolean };
export function prepareSampleWorkspace(sample: string, workspace: string, options?: { reset?: boolean }): 'created' | 'kept' | 'reset';
