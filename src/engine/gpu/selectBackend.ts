// Which backend computes a format-v2 model (flashcode.engine.backend): 'wasm' always the WebAssembly
// kernels; 'webgpu' the GPU whenever an adapter is found and the model loads there, a software one
// included (tests and CI run that way); 'auto' the GPU only on a hardware adapter and only when a
// short calibration at load — a prompt's prefill and a few decode steps on each — says it is faster.
// Every outcome comes with its reason, for the log, the tooltip and the CLI's JSON.
import type { ForwardPass } from '../forwardPass';
import type { ModelV2 } from '../v2/modelV2';
import { probeAdapter, type AdapterProbe } from './adapter';
import type { BackendSetting } from './backendSetting';
import { GpuWithFallback } from './gpuFallback';
import { GpuModelV2, gpuUnsupportedReason, type GpuModelOptions } from './modelGpu';


export const WASM_LABEL = 'WebAssembly SIMD kernels';

export interface BackendChoice {
  pass: ForwardPass;
  backend: 'webgpu' | 'wasm';
  /** For people: what computes, e.g. "WebGPU (nvidia-h200 (nvidia, vulkan))". */
  label: string;
  reason: string;
  /** Set when the user asked for WebGPU and does not get it. */
  warning?: string;
}

export interface SelectOptions {
  /** Told once when a GPU fault moves the model to WASM mid-run. */
  onFault?: (reason: string) => void;
  gpu?: GpuModelOptions;
  probe?: () => Promise<AdapterProbe>;
  /** Tokens of the calibration's prefill and its decode steps ('auto'). */
  calibration?: { promptTokens: number; decodeTokens: number };
}

export async function selectBackend(wasm: ModelV2, setting: BackendSetting, options: SelectOptions = {}): Promise<BackendChoice> {
  const onWasm = (reason: string): BackendChoice => ({
    pass: wasm, backend: 'wasm', label: WASM_LABEL, reason,
    warning: setting === 'webgpu' ? `flashcode.engine.backend is "webgpu", but the model runs on WebAssembly: ${reason}` : undefined,
  });
  if (setting === 'wasm') return onWasm('flashcode.engine.backend is "wasm"');
  const unsupported = gpuUnsupportedReason(wasm);
  if (unsupported) return onWasm(`this model cannot run on WebGPU: ${unsupported}`);
  const probe = await (options.probe ?? probeAdapter)();
  if (!probe.ok) return onWasm(probe.reason);
  if (setting === 'auto' && probe.isSoftware) return onWasm(`the WebGPU adapter is ${probe.description}, a software renderer (never faster than the WebAssembly kernels); set flashcode.engine.backend to "webgpu" to use it anyway`);
  let gpu: GpuModelV2;
  try {
    gpu = await GpuModelV2.load(probe.adapter, wasm, options.gpu);
  } catch (e) {
    return onWasm(`loading the model on WebGPU (${probe.description}) failed: ${(e as Error).message}`);
  }
  const label = `WebGPU (${probe.description})`;
  if (setting === 'auto') {
    const { promptTokens, decodeTokens } = options.calibration ?? { promptTokens: 32, decodeTokens: 4 };
    const ids = Array.from({ length: promptTokens }, (_, i) => (i * 7919 + 13) % wasm.arch.vocabSize);
    let gpuMs: number;
    try {
      gpuMs = await timeRun(gpu, ids, decodeTokens);
    } catch (e) {
      await gpu.dispose();
      return onWasm(`WebGPU (${probe.description}) failed its calibration run: ${(e as Error).message}`);
    }
    const wasmMs = await timeRun(wasm, ids, decodeTokens);
    const measured = `calibration at load, ${promptTokens} prompt + ${decodeTokens} decode tokens: WebGPU ${gpuMs.toFixed(0)} ms, WebAssembly ${wasmMs.toFixed(0)} ms`;
    if (gpuMs >= wasmMs) {
      await gpu.dispose();
      return onWasm(`${probe.description} was slower than the WebAssembly kernels (${measured})`);
    }
    return { pass: new GpuWithFallback(gpu, wasm, options.onFault ?? (() => undefined)), backend: 'webgpu', label, reason: `faster than WebAssembly (${measured})` };
  }
  return { pass: new GpuWithFallback(gpu, wasm, options.onFault ?? (() => undefined)), backend: 'webgpu', label, reason: `flashcode.engine.backend is "webgpu"${probe.isSoftware ? ' (a software adapter: for tests, not for speed)' : ''}` };
}

/** Milliseconds of a prefill of `ids` and `decode` greedy-free decode steps on a fresh cache. */
async function timeRun(pass: ForwardPass, ids: number[], decode: number): Promise<number> {
  const kv = pass.newCache();
  const start = performance.now();
  await pass.forward(ids, kv);
  for (let i = 0; i < decode; i++) await pass.forward([ids[i % ids.length]], kv);
  return performance.now() - start;
}
