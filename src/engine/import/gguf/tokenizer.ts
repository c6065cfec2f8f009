// The GGUF's tokenizer (tokenizer.ggml.*, model "gpt2" = byte-level BPE) as a Hugging Face
// tokenizer.json that gives llama.cpp's token ids: the pre-tokenizer regexes are llama.cpp's for
// each tokenizer.ggml.pre (llama-vocab.cpp), applied one after the other as isolated splits, and the
// control / user-defined tokens are added tokens, matched whole wherever they occur.
import path from 'node:path';
import type { TokenizerJson } from '../checkpoint';
import { CheckpointCorruptError, CheckpointIncompleteError, CheckpointUnsupportedError } from '../errors';
import type { GgufHeader, GgufValue } from './header';

const GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
const LLAMA3 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** tokenizer.ggml.pre → llama.cpp's regexes (applied in order), and whether BPE ignores merges for
 *  words that are whole tokens (llama.cpp does so for llama-bpe only). */
const PRE_TOKENIZERS: Record<string, { regexes: string[]; ignoreMerges?: boolean }> = {
  'gpt-2': { regexes: [GPT2] },
  // llama.cpp's fallback for BPE vocabularies without a known pre-tokenizer (not GPT-2's)
  default: { regexes: ['[\\p{P}\\$\\+<=>\\^~\\|]+', GPT2, '\\p{N}+', '[0-9][0-9][0-9]'] },
  smollm: { regexes: ['\\p{N}', GPT2] },
  starcoder: { regexes: ['\\p{N}', GPT2] },
  refact: { regexes: ['\\p{N}', GPT2] },
  qwen2: { regexes: [QWEN2] },
  'llama-bpe': { regexes: [LLAMA3], ignoreMerges: true },
  'deepseek-coder': { regexes: ['[\\r\\n]', '\\s?\\p{L}+', '\\s?\\p{P}+', '[一-龥ࠀ-一가-퟿]+', '\\p{N}'] },
};

const TOKEN_TYPE_NORMAL = 1, TOKEN_TYPE_UNKNOWN = 2, TOKEN_TYPE_CONTROL = 3, TOKEN_TYPE_USER_DEFINED = 4;

function strings(v: GgufValue | undefined, key: string, file: string): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new CheckpointIncompleteError(file, `metadata ${key} is missing or not an array of strings: the GGUF has no usable tokenizer`);
  return v as string[];
}

export function ggufTokenizer(h: GgufHeader): { json: TokenizerJson; eosToken?: string } {
  const file = path.basename(h.file);
  const model = h.metadata.get('tokenizer.ggml.model');
  if (model === undefined) throw new CheckpointIncompleteError(file, 'metadata tokenizer.ggml.model is missing: the GGUF has no tokenizer');
  if (model !== 'gpt2') throw new CheckpointUnsupportedError(file, `tokenizer model "${String(model)}" (only byte-level BPE, "gpt2")`);
  const preName = String(h.metadata.get('tokenizer.ggml.pre') ?? 'default');
  const pre = PRE_TOKENIZERS[preName];
  if (!pre) throw new CheckpointUnsupportedError(file, `pre-tokenizer "${preName}" (supported: ${Object.keys(PRE_TOKENIZERS).join(', ')})`);
  const tokens = strings(h.metadata.get('tokenizer.ggml.tokens'), 'tokenizer.ggml.tokens', file);
  const merges = strings(h.metadata.get('tokenizer.ggml.merges'), 'tokenizer.ggml.merges', file);
  const typesValue = h.metadata.get('tokenizer.ggml.token_type');
  const types = Array.isArray(typesValue) ? (typesValue as number[]) : tokens.map(() => TOKEN_TYPE_NORMAL);
  if (types.length !== tokens.length) throw new CheckpointCorruptError(file, `${tokens.length} tokens but ${types.length} token types`);

  const vocab: Record<string, number> = {};
  const added: TokenizerJson['added_tokens'] = [];
  tokens.forEach((t, id) => {
    if (Object.prototype.hasOwnProperty.call(vocab, t)) throw new CheckpointCorruptError(file, `token ${JSON.stringify(t)} appears twice in tokenizer.ggml.tokens`);
    vocab[t] = id;
    const type = types[id];
    if (type === TOKEN_TYPE_CONTROL || type === TOKEN_TYPE_USER_DEFINED || type === TOKEN_TYPE_UNKNOWN) {
      added.push({ id, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: type !== TOKEN_TYPE_USER_DEFINED });
    }
  });
  const eosId = h.metadata.get('tokenizer.ggml.eos_token_id');
  const json: TokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        ...pre.regexes.map((r) => ({ type: 'Split', pattern: { Regex: r }, behavior: 'Isolated', invert: false })),
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      ],
    },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: pre.ignoreMerges ?? false, vocab, merges,
    },
  };
  return { json, eosToken: typeof eosId === 'number' ? tokens[eosId] : undefined };
}
