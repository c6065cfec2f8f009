// Two models of the same vocabulary side by side, greedy, each fed the first one's token (teacher
// forcing), so every step compares the same context.
import type { Model } from '../../src/engine/model';
import { argmax } from '../../src/engine/sampling';

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Prefills `prompt` on both, then decodes `steps` tokens: the largest logit difference seen and how
 *  often `other`'s argmax agreed with `base`'s. */
export async function compareModels(base: Model, other: Model, prompt: readonly number[], steps: number): Promise<{ maxDiff: number; agree: number }> {
  const kb = base.newCache();
  const ko = other.newCache();
  let a = await base.forward(prompt, kb);
  let b = await other.forward(prompt, ko);
  let maxDiff = maxAbsDiff(a, b);
  let agree = 0;
  for (let i = 0; i < steps; i++) {
    const next = argmax(a);
    if (argmax(b) === next) agree++;
    a = await base.forward([next], kb);
    b = await other.forward([next], ko);
    maxDiff = Math.max(maxDiff, maxAbsDiff(a, b));
  }
  return { maxDiff, agree };
}
