// The part of the WebAssembly JavaScript API the kernels use. Node has it at run time; the project's
// `lib` (ES2022, no DOM) does not declare it.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    /** `shared` needs a `maximum`; the buffer is then a SharedArrayBuffer. */
    constructor(descriptor: { initial: number; maximum?: number; shared?: boolean });
    readonly buffer: ArrayBufferLike;
  }
  function validate(bytes: Uint8Array): boolean;
}
