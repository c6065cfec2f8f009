// Applies flashcode.cloud.exclude before anything is rendered: context from an excluded file is
// never part of a prompt, and a target in an excluded file may only be answered locally.
import { isExcluded } from '../privacy/exclude';
import type { TaskInput } from './types';

export interface Screened {
  input: TaskInput;
  targetExcluded: boolean;
  notices: string[];
}

export function screenExcluded(input: TaskInput, patterns: readonly string[]): Screened {
  const notices: string[] = [];
  const context = input.context.filter((chunk) => {
    if (!isExcluded(chunk.fileName, patterns)) return true;
    notices.push(`left out: ${chunk.label} (${chunk.fileName} matches flashcode.cloud.exclude)`);
    return false;
  });
  return { input: { ...input, context }, targetExcluded: isExcluded(input.target.fileName, patterns), notices };
}
