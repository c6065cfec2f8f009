// Types for scripts/vscode-env.mjs (plain Node ESM, imported by the TypeScript e2e harness).

export const NODE24_PACKAGE: string;
export const NODE24_VERSION: string;
export const CODE_SERVER_VERSION: string;
export const DEFAULT_CHROMIUM: string;
export const REPO_ROOT: string;
export const CACHE_DIR: string;

export type VscodeEnv =
  | { ok: true; codeServerBin: string; node24BinDir: string; chromiumPath: string; codeServerVersion: string }
  | { ok: false; reason: string };

/** `browser: false` skips Chromium (then `chromiumPath` is empty). */
export function ensureVscodeEnv(options?: { log?: (message: string) => void; cacheDir?: string; browser?: boolean }): Promise<VscodeEnv>;

export const BASE_USER_SETTINGS: Readonly<Record<string, unknown>>;

export function node24Env(node24BinDir: string, base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
export function isolatedHome(dir: string): Record<'HOME' | 'XDG_CONFIG_HOME' | 'XDG_DATA_HOME' | 'XDG_CACHE_HOME' | 'XDG_STATE_HOME', string>;
export function codeServerBaseArgs(dirs: { userDataDir: string; extensionsDir: string }): string[];
export function codeServerServeArgs(options: { port: number }): string[];
