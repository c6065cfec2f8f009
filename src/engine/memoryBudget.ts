// flashcode.engine.memoryBudgetMB's 0: a budget chosen from this machine's memory.
import os from 'node:os';

/** The automatic memory budget (flashcode.engine.memoryBudgetMB 0): half of this machine's memory.
 *  A model that fits it stays wholly in memory; a larger one reads its FFN from disk within it. */
export function autoBudgetMB(): number {
  return Math.floor(os.totalmem() / 2 / 2 ** 20);
}

/** The budget a setting stands for: itself, or the automatic one for 0. */
export function budgetMB(setting: number): number {
  return setting > 0 ? setting : autoBudgetMB();
}
