// What can go wrong on the WebGPU path. Neither crosses the worker boundary: the engine answers a
// fault by finishing the request on WebAssembly (gpu/gpuFallback.ts) and says why in ModelInfo.

export type GpuFaultKind = 'device-lost' | 'out-of-memory' | 'validation' | 'compile' | 'timeout' | 'failed';

/** The GPU failed (lost, out of memory, a kernel that does not compile, a readback that never
 *  came): WebAssembly finishes the work and WebGPU is not tried again until the setting changes. */
export class WebGpuFaultError extends Error {
  constructor(readonly kind: GpuFaultKind, detail: string) {
    super(`WebGPU ${kind}: ${detail}`);
    this.name = 'WebGpuFaultError';
  }
}

/** The model has something the WebGPU kernels do not run (a streamed FFN, an activation without a kernel). */
export class WebGpuUnsupportedError extends Error {
  constructor(readonly reason: string) {
    super(`this model cannot run on WebGPU: ${reason}`);
    this.name = 'WebGpuUnsupportedError';
  }
}
