// Finding a WebGPU adapter in Node: npm `webgpu` (Dawn) is an optional dependency and a native
// addon, so it is imported only when asked for, and every way of not getting an adapter (package
// absent, no Vulkan/Metal/D3D driver, a driver that never answers) is a reason string, not a throw.
/// <reference types="@webgpu/types" />
import os from 'node:os';

export interface AdapterFound {
  ok: true;
  gpu: GPU;
  adapter: GPUAdapter;
  /** For people: "nvidia-h200 (nvidia, vulkan)", "llvmpipe (mesa, software)". */
  description: string;
  /** A CPU rasteriser (llvmpipe, SwiftShader, WARP): correct, never faster than the WASM kernels. */
  isSoftware: boolean;
  probeMs: number;
}

export interface AdapterMissing {
  ok: false;
  reason: string;
  probeMs: number;
}

export type AdapterProbe = AdapterFound | AdapterMissing;

/** Dawn answers within ~0.5 s on llvmpipe; a driver that takes longer is not one to run on. */
export const ADAPTER_TIME_LIMIT_MS = 3000;

let gpuInstance: Promise<GPU> | undefined;

/** Dawn's GPU object, created once per process (its globals — GPUBufferUsage and friends — go on
 *  globalThis, where WebGPU code expects them). */
function dawn(): Promise<GPU> {
  gpuInstance ??= (async () => {
    // Mesa's Vulkan drivers warn, and some fail, without a runtime directory; a worker thread of a
    // VS Code started from a desktop has one, a CI shell often does not.
    if (process.platform === 'linux' && !process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = os.tmpdir();
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    return create([]);
  })();
  return gpuInstance;
}

/** Requests a high-performance adapter within `timeLimitMs`. */
export async function probeAdapter(timeLimitMs = ADAPTER_TIME_LIMIT_MS): Promise<AdapterProbe> {
  const start = performance.now();
  const missing = (reason: string): AdapterMissing => ({ ok: false, reason, probeMs: performance.now() - start });
  let gpu: GPU;
  try {
    gpu = await dawn();
  } catch (e) {
    gpuInstance = undefined;
    return missing(`the optional package "webgpu" (Dawn) did not load: ${(e as Error).message.split('\n')[0]} (the .vsix built for this platform carries it: npm run package -- --target ${process.platform}-${process.arch})`);
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeLimitMs); });
  try {
    const adapter = await Promise.race([gpu.requestAdapter({ powerPreference: 'high-performance' }), timeout]);
    if (adapter === 'timeout') return missing(`no WebGPU adapter answered within ${timeLimitMs} ms`);
    if (!adapter) return missing('no WebGPU adapter: no GPU driver Dawn can use (Vulkan, Metal or Direct3D 12)');
    const { vendor, architecture, device, description } = adapter.info;
    const name = device || description || architecture || 'unnamed adapter';
    const isSoftware = adapter.info.isFallbackAdapter === true || architecture === 'software' || /llvmpipe|lavapipe|swiftshader|warp|software/i.test(`${name} ${description}`);
    return { ok: true, gpu, adapter, description: `${name} (${[vendor, architecture].filter(Boolean).join(', ') || 'unknown vendor'})`, isSoftware, probeMs: performance.now() - start };
  } catch (e) {
    return missing(`requesting a WebGPU adapter failed: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}
