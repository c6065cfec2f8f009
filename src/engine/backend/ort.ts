// The only module that touches onnxruntime-web. Everything else sees plain typed arrays and dims.
import * as ort from 'onnxruntime-web';
import { pathToFileURL } from 'node:url';

export type TensorIn =
  | { type: 'float32'; data: Float32Array; dims: readonly number[] }
  | { type: 'int64'; data: BigInt64Array; dims: readonly number[] };

export interface TensorOut {
  data: Float32Array;
  dims: readonly number[];
}

export interface Graph {
  readonly inputNames: readonly string[];
  run(feeds: Record<string, TensorIn>): Promise<Record<string, TensorOut>>;
  release(): Promise<void>;
}

let configured: { threads: number; wasmDir?: string } | undefined;

/** ORT's wasm settings are process-wide and must be set before the first session. */
function configure(threads: number, wasmDir: string | undefined): void {
  if (configured) return;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  // Bundlers do not carry ORT's wasm files along: a bundle ships them and says where.
  if (wasmDir) ort.env.wasm.wasmPaths = pathToFileURL(wasmDir).href + '/';
  ort.env.logLevel = 'error';
  configured = { threads, wasmDir };
}

export async function loadGraph(bytes: Uint8Array, threads: number, wasmDir?: string): Promise<Graph> {
  configure(threads, wasmDir);
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  return {
    inputNames: session.inputNames,
    async run(feeds) {
      const inputs: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) inputs[name] = new ort.Tensor(t.type, t.data, t.dims);
      const results = await session.run(inputs);
      const out: Record<string, TensorOut> = {};
      for (const [name, t] of Object.entries(results)) {
        out[name] = { data: t.data as Float32Array, dims: t.dims };
      }
      return out;
    },
    release: () => session.release(),
  };
}
