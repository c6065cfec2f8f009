// Applies flashcode.cloud.exclude before anything is rendered: context from an excluded file is
// never part of a prompt, and a target in an excluded file may only be answered locally.
import { isExcluded, unusablePatterns } from '../privacy/exclude';
import type { TaskInput } from './types';

export interface Screened {
  input: TaskInput;
  targetExcluded: boolean;
  notices: string[];
}

export function screenExcluded(input: TaskInput, patterns: readonly string[]): Screened {
  const notices = unusablePatterns(patterns).map(({ pattern, reason }) =>
    `flashcode.cloud.exclude has a pattern that cannot be used (${pattern.length > 40 ? `${pattern.slice(0, 40)}…` : pattern}: ${reason}) — fix or remove it; until then every file counts as excluded and nothing goes to the cloud`);
  const context = input.context.filter((chunk) => {
    if (!isExcluded(chunk.fileName, patterns)) return true;
    notices.push(`left out: ${chunk.label} (${chunk.fileName} matches flashcode.cloud.exclude)`);
    return false;
  });
  return { input: { ...input, context }, targetExcluded: isExcluded(input.target.fileName, patterns), notices };
}
