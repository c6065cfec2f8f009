// flashcode.engine.backend's values (settingsSchema.ts names them; gpu/selectBackend.ts acts on them).
export const BACKEND_SETTINGS = ['auto', 'wasm', 'webgpu'] as const;
export type BackendSetting = (typeof BACKEND_SETTINGS)[number];
