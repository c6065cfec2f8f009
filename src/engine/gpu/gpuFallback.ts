// The WebGPU forward pass with the WebAssembly one behind it: a GPU fault (device lost, out of
// memory, a readback past its time limit) moves the model to WASM for good, and the call that hit
// it is finished there — the positions the GPU had computed are run again on WASM first, since
// its KV cache lived on the GPU. WebGPU is not tried again until the engine is loaded anew (a
// setting change or a restart).
import type { ForwardPass } from '../forwardPass';
import type { KvPositions } from '../kvCache';
import type { ModelV2 } from '../v2/modelV2';
import { WebGpuFaultError } from './gpuErrors';
import type { GpuModelV2 } from './modelGpu';

export class GpuWithFallback implements ForwardPass {
  /** Why WebGPU stopped, once it has. */
  fault: string | undefined;
  /** Caches whose positions were computed on the GPU: WASM recomputes them at their next call. */
  private readonly onGpu = new WeakSet<KvPositions>();

  constructor(
    private gpu: GpuModelV2 | undefined,
    private readonly wasm: ModelV2,
    /** Told once, with the fault, when WebGPU stops. */
    private readonly onFault: (reason: string) => void,
  ) {}

  get arch() { return this.wasm.arch; }
  get contextTokens() { return this.wasm.contextTokens; }
  get stageMs() { return (this.gpu ?? this.wasm).stageMs; }
  /** Whether the GPU still computes. */
  get onWebGpu(): boolean { return this.gpu !== undefined; }

  newCache(): KvPositions {
    return this.wasm.newCache();
  }

  forward(ids: readonly number[], kv: KvPositions): Promise<Float32Array> {
    return this.run(ids, kv, false);
  }

  forwardAll(ids: readonly number[], kv: KvPositions): Promise<Float32Array> {
    return this.run(ids, kv, true);
  }

  async dispose(): Promise<void> {
    await this.gpu?.dispose();
    this.gpu = undefined;
    await this.wasm.dispose();
  }

  private async run(ids: readonly number[], kv: KvPositions, all: boolean): Promise<Float32Array> {
    if (this.gpu) {
      try {
        const logits = await (all ? this.gpu.forwardAll(ids, kv) : this.gpu.forward(ids, kv));
        this.onGpu.add(kv);
        return logits;
      } catch (e) {
        if (!(e instanceof WebGpuFaultError)) throw e;
        this.stop(e.message);
        this.onGpu.add(kv); // positions the GPU computed before the fault
      }
    }
    if (!this.onGpu.has(kv)) return all ? this.wasm.forwardAll(ids, kv) : this.wasm.forward(ids, kv);
    this.onGpu.delete(kv);
    const past = kv.ids.slice();
    kv.clear();
    if (!all) return this.wasm.forward([...past, ...ids], kv);
    const logits = await this.wasm.forwardAll([...past, ...ids], kv);
    return logits.slice(past.length * this.arch.vocabSize);
  }

  private stop(reason: string): void {
    const gpu = this.gpu;
    this.gpu = undefined;
    this.fault = reason;
    void gpu?.dispose().catch(() => undefined);
    this.onFault(reason);
  }
}
