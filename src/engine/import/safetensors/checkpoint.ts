// A Hugging Face checkpoint directory (config.json, *.safetensors or model.safetensors.index.json,
// tokenizer.json, tokenizer_config.json) of a Llama, Mistral or Qwen2 model as a Checkpoint.
import fs from 'node:fs';
import path from 'node:path';
import { expectedShape, layerTensorNames, type Checkpoint, type ImportedArchitecture, type TokenizerJson } from '../checkpoint';
import { CheckpointCorruptError, CheckpointIncompleteError, CheckpointUnsupportedError } from '../errors';
import { CONTEXT_CAP_TOKENS } from '../writer/manifest';
import { readSafetensorsHeader, safetensorsSource, type SafetensorsTensor } from './file';

const ARCHITECTURES = ['LlamaForCausalLM', 'MistralForCausalLM', 'Qwen2ForCausalLM'];

const LAYER_NAMES: Record<string, string> = {
  attn_norm: 'input_layernorm.weight', q: 'self_attn.q_proj.weight', k: 'self_attn.k_proj.weight', v: 'self_attn.v_proj.weight',
  q_bias: 'self_attn.q_proj.bias', k_bias: 'self_attn.k_proj.bias', v_bias: 'self_attn.v_proj.bias', out: 'self_attn.o_proj.weight',
  ffn_norm: 'post_attention_layernorm.weight', gate: 'mlp.gate_proj.weight', up: 'mlp.up_proj.weight', down: 'mlp.down_proj.weight',
};

function hfName(v2: string): string {
  if (v2 === 'embed') return 'model.embed_tokens.weight';
  if (v2 === 'head') return 'lm_head.weight';
  if (v2 === 'final_norm') return 'model.norm.weight';
  const m = /^layers\.(\d+)\.(.+)$/.exec(v2);
  if (!m || !LAYER_NAMES[m[2]]) throw new Error(`no Hugging Face name for ${v2}`);
  return `model.layers.${m[1]}.${LAYER_NAMES[m[2]]}`;
}

function readJson(file: string, what: string): Record<string, unknown> {
  if (!fs.existsSync(file)) throw new CheckpointIncompleteError(path.dirname(file), `${path.basename(file)} (${what}) is missing`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CheckpointCorruptError(path.basename(file), `not valid JSON (${(e as Error).message})`);
  }
}

function architectureOf(config: Record<string, unknown>): { a: Omit<ImportedArchitecture, 'tiedEmbeddings'>; context: number; arch: string } {
  const where = 'config.json';
  const num = (key: string, fallback?: number): number => {
    const v = config[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new CheckpointIncompleteError(where, `required field ${key} is ${v === undefined ? 'missing' : `not a number (${JSON.stringify(v)})`}`);
    return v;
  };
  const arch = Array.isArray(config.architectures) ? String(config.architectures[0]) : undefined;
  if (!arch) throw new CheckpointIncompleteError(where, 'required field architectures is missing');
  if (!ARCHITECTURES.includes(arch)) throw new CheckpointUnsupportedError(where, `architecture ${arch} (supported: ${ARCHITECTURES.join(', ')})`);
  if (config.rope_scaling !== undefined && config.rope_scaling !== null) throw new CheckpointUnsupportedError(where, `RoPE scaling (${JSON.stringify(config.rope_scaling)})`);
  if ((config.hidden_act ?? 'silu') !== 'silu') throw new CheckpointUnsupportedError(where, `hidden_act ${JSON.stringify(config.hidden_act)} (only silu)`);
  if (config.mlp_bias === true) throw new CheckpointUnsupportedError(where, 'MLP biases (mlp_bias)');
  if (config.num_local_experts !== undefined || config.num_experts !== undefined) throw new CheckpointUnsupportedError(where, 'mixture of experts');
  const context = num('max_position_embeddings');
  const window = config.sliding_window;
  const windowOn = arch === 'Qwen2ForCausalLM' ? config.use_sliding_window === true : typeof window === 'number';
  // A window at least as long as the context the engine will run is no window at all.
  if (windowOn && !(typeof window === 'number' && window >= Math.min(context, CONTEXT_CAP_TOKENS))) {
    throw new CheckpointUnsupportedError(where, `sliding-window attention (sliding_window ${JSON.stringify(window)})`);
  }
  const dModel = num('hidden_size');
  const heads = num('num_attention_heads');
  const headDim = num('head_dim', dModel / heads);
  if (headDim * heads !== dModel || !Number.isInteger(headDim)) throw new CheckpointUnsupportedError(where, `head_dim ${headDim} × ${heads} heads ≠ hidden_size ${dModel}`);
  if (dModel % 32 !== 0) throw new CheckpointUnsupportedError(where, `hidden_size ${dModel} (must be a multiple of 32)`);
  return {
    arch,
    context,
    a: {
      family: 'llama', layers: num('num_hidden_layers'), dModel, heads, kvHeads: num('num_key_value_heads', heads), headDim,
      ffnSize: num('intermediate_size'), ffnActivation: 'silu', ffnGated: true, ropeTheta: num('rope_theta', 10000),
      normEps: num('rms_norm_eps'), vocabSize: num('vocab_size'),
      attentionBias: arch === 'Qwen2ForCausalLM' || config.attention_bias === true,
    },
  };
}

/** Every tensor of the checkpoint by name, from the one file or the shards the index lists. */
function readTensors(dir: string): Map<string, SafetensorsTensor> {
  const index = path.join(dir, 'model.safetensors.index.json');
  let shards: string[];
  if (fs.existsSync(index)) {
    const weightMap = readJson(index, 'the shard index').weight_map;
    if (!weightMap || typeof weightMap !== 'object') throw new CheckpointCorruptError('model.safetensors.index.json', 'no weight_map');
    shards = [...new Set(Object.values(weightMap as Record<string, string>))];
  } else {
    shards = fs.readdirSync(dir).filter((f) => f.endsWith('.safetensors')).sort();
  }
  if (shards.length === 0) throw new CheckpointIncompleteError(dir, 'no *.safetensors file');
  const all = new Map<string, SafetensorsTensor>();
  for (const shard of shards) {
    const file = path.join(dir, shard);
    if (!fs.existsSync(file)) throw new CheckpointIncompleteError(dir, `shard ${shard} is missing`);
    for (const [name, t] of readSafetensorsHeader(file)) {
      if (all.has(name)) throw new CheckpointCorruptError(shard, `duplicate tensor ${name} (also in ${path.basename(all.get(name)!.file)})`);
      all.set(name, t);
    }
  }
  return all;
}

export function openSafetensorsCheckpoint(dir: string): Checkpoint {
  const config = readJson(path.join(dir, 'config.json'), 'the model configuration');
  const { a, context } = architectureOf(config);
  const tokenizerJson = readJson(path.join(dir, 'tokenizer.json'), 'the tokenizer') as unknown as TokenizerJson;
  if (!Array.isArray(tokenizerJson.added_tokens) || !tokenizerJson.model) throw new CheckpointCorruptError('tokenizer.json', 'no added_tokens or model');
  const tokenizerConfig = fs.existsSync(path.join(dir, 'tokenizer_config.json')) ? readJson(path.join(dir, 'tokenizer_config.json'), 'tokenizer settings') : undefined;
  const tensors = readTensors(dir);
  const tied = config.tie_word_embeddings === true || !tensors.has('lm_head.weight');
  if (!tied && !tensors.has('lm_head.weight')) throw new CheckpointIncompleteError(dir, 'lm_head.weight is missing and tie_word_embeddings is false');
  const architecture: ImportedArchitecture = { ...a, tiedEmbeddings: tied };
  const wanted = ['embed', ...(tied ? [] : ['head']), 'final_norm'];
  for (let l = 0; l < a.layers; l++) wanted.push(...layerTensorNames(l, a.attentionBias));
  const byV2 = new Map<string, SafetensorsTensor>();
  for (const v2 of wanted) {
    const t = tensors.get(hfName(v2));
    if (!t) throw new CheckpointIncompleteError(dir, `tensor ${hfName(v2)} is missing`);
    const [rows, cols] = expectedShape(v2, architecture);
    const shape = rows === 1 ? [cols] : [rows, cols];
    if (t.shape.join() !== shape.join()) throw new CheckpointCorruptError(path.basename(t.file), `tensor ${hfName(v2)} has shape [${t.shape.join(', ')}], but config.json implies [${shape.join(', ')}]`);
    byV2.set(v2, t);
  }
  const fds = new Map<string, number>();
  const fdOf = (file: string) => fds.get(file) ?? fds.set(file, fs.openSync(file, 'r')).get(file)!;
  const files = [...new Set([...tensors.values()].map((t) => t.file))].sort();
  const cfg = tokenizerConfig as { chat_template?: unknown; eos_token?: unknown } | undefined;
  const eos = typeof cfg?.eos_token === 'string' ? cfg.eos_token : (cfg?.eos_token as { content?: string } | undefined)?.content;
  return {
    kind: 'safetensors',
    files: [...['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors.index.json'].map((f) => path.join(dir, f)).filter((f) => fs.existsSync(f)), ...files]
      .map((f) => ({ path: f, name: path.basename(f), bytes: fs.statSync(f).size })),
    displayName: typeof config._name_or_path === 'string' && config._name_or_path ? path.basename(config._name_or_path) : path.basename(path.resolve(dir)),
    architecture,
    contextTokens: context,
    quantization: [...new Set([...byV2.values()].map((t) => t.dtype))].join('+'),
    tensor(v2) {
      const t = byV2.get(v2);
      if (!t) throw new Error(`no tensor ${v2}`);
      return safetensorsSource(fdOf(t.file), t);
    },
    tokenizerJson,
    tokenizerConfig,
    chatTemplate: typeof cfg?.chat_template === 'string' ? cfg.chat_template : undefined,
    eosToken: eos,
    close: () => fds.forEach((fd) => fs.closeSync(fd)),
  };
}
