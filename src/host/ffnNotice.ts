// What the user is told when flashcode.engine.sparseFfn is on and the model runs densely anyway
// (ModelInfo.ffn.notice, e.g. a model without predictors): always in the status bar's tooltip, and
// as a warning when a load brings it up. Pure, so the "shown once" rule is unit-tested.

/** The notice as one sentence for a person ("… is on, but this model has no predictors.bin, …"). */
export function ffnNoticeText(notice: string): string {
  return `flashcode.engine.sparseFfn is on, but ${notice}`;
}

/** Decides, load by load, whether the FFN notice is news. A load that ends with the same notice for
 *  the same model as the load before it (a reload for another setting, the restart after a worker
 *  crash) has nothing new to say; a load without a notice forgets it, so turning sparseFfn off and on
 *  again warns again. */
export class FfnNotices {
  private last: string | undefined;

  /** Call after every load that succeeds, with its notice; returns the notice when it should be
   *  shown, else undefined. */
  afterLoad(modelDir: string, notice: string | undefined): string | undefined {
    const key = notice === undefined ? undefined : `${modelDir}\n${notice}`;
    const isNew = key !== undefined && key !== this.last;
    this.last = key;
    return isNew ? notice : undefined;
  }
}
