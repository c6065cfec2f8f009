// What generation needs of a loaded model, whichever format it came from: format v1 runs through
// Model (graphs' weights, flash FFN), format v2 through ModelV2 (8-bit kernels).
import type { KvPositions } from './kvCache';
import type { Architecture } from './manifest';

export interface ForwardPass {
  readonly arch: Architecture;
  /** Positions a KV cache holds: the context the engine gives this model. */
  readonly contextTokens: number;
  readonly stageMs: { embed: number; attention: number; ffn: number; head: number };
  newCache(): KvPositions;
  /** Runs `ids` after what `kv` holds: the logits of the last position, [vocab] f32. */
  forward(ids: readonly number[], kv: KvPositions): Promise<Float32Array>;
  /** The logits of every position, [T][vocab] f32. */
  forwardAll(ids: readonly number[], kv: KvPositions): Promise<Float32Array>;
  dispose(): Promise<void>;
}
