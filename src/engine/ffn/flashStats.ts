// What the flash path did, per layer and in total, since load (or the last reset): the figures the
// bench prints and the engine exposes.

export interface LayerFlashStats {
  /** Decode rows (tokens) that went through the sparse path. */
  tokens: number;
  /** Σ over those rows of neurons predicted active (the union over rows of one call, per row). */
  predicted: number;
  /** Σ of neurons whose activation came out non-zero among those computed. */
  nonZero: number;
  /** Predicted neurons already resident, and those read from disk. */
  hits: number;
  misses: number;
  evicted: number;
  /** Of the misses, those read and computed without entering the cache, because the cache was full
   *  of neurons the same token needs. */
  uncached: number;
}

export interface FlashStats {
  layers: LayerFlashStats[];
  /** Bytes and positional reads from ffn.bin for decoding (sparse loads and dense prefill streaming). */
  bytesRead: number;
  reads: number;
  neuronsRead: number;
  /** Decode tokens (sparse forward calls of one token; multi-token sparse calls count each row). */
  sparseTokens: number;
  /** Calls that ran the FFN densely (prefill longer than the sparse limit). */
  denseCalls: number;
}

export function emptyFlashStats(layers: number): FlashStats {
  return {
    layers: Array.from({ length: layers }, () => ({
      tokens: 0, predicted: 0, nonZero: 0, hits: 0, misses: 0, evicted: 0, uncached: 0,
    })),
    bytesRead: 0, reads: 0, neuronsRead: 0, sparseTokens: 0, denseCalls: 0,
  };
}
