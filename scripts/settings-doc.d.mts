// Types for scripts/settings-doc.mjs (plain Node ESM, imported by a TypeScript test).

export const REPO_ROOT: string;
export const BEGIN: string;
export const END: string;
export function renderSettings(manifest: unknown): string;
export function withSettings(readme: string, section: string): string;
