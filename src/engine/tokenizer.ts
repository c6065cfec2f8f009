// tokenizer.json (Hugging Face format) through @huggingface/tokenizers, plus the lookups the engine
// needs: special-token ids and incremental decoding for streaming (byteDecoder.ts). Checked at
// load against the model: every id inside the vocabulary, every token the manifest names present.
import { Tokenizer } from '@huggingface/tokenizers';
import { byteLevelTable, StreamDecoder, type TokenBytes } from './byteDecoder';
import { ModelFileCorruptError, ModelManifestInvalidError } from './errors';
import type { Manifest } from './manifest';
import { readModelFile } from './modelDir';

interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number> };
  decoder?: { type?: string } | null;
  added_tokens?: { id: number; content: string; special?: boolean }[];
}

export class TextTokenizer {
  private constructor(
    private readonly tok: Tokenizer,
    private readonly specialIds: Map<string, number>,
    /** Each id's bytes (the vocabulary is byte-level BPE). */
    private readonly bytes: TokenBytes,
  ) {}

  static async load(file: string, vocabSize?: number): Promise<TextTokenizer> {
    let json: TokenizerJson;
    try {
      json = JSON.parse(await readModelFile(file, 'utf8')) as TokenizerJson;
    } catch (e) {
      if ((e as { code?: string }).code !== undefined) throw e; // a named file error already
      throw new ModelFileCorruptError('tokenizer.json', (e as Error).message);
    }
    const vocab = json?.model?.vocab;
    if (typeof json !== 'object' || json === null || typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) {
      throw new ModelFileCorruptError('tokenizer.json', 'no model.vocab: not a Hugging Face tokenizer file');
    }
    const added = Array.isArray(json.added_tokens) ? json.added_tokens : [];
    // Without the model's vocabulary size (tools that load a tokenizer alone) ids are only checked for sanity.
    const size = vocabSize ?? 1 + [...Object.values(vocab), ...added.map((t) => t.id)].reduce((m, id) => (Number.isInteger(id) ? Math.max(m, id) : m), 0);
    for (const [token, id] of [...Object.entries(vocab), ...added.map((t) => [t.content, t.id] as const)]) {
      if (!Number.isInteger(id) || id < 0 || id >= size) {
        throw new ModelFileCorruptError('tokenizer.json', `token ${JSON.stringify(String(token).slice(0, 20))} has id ${id}, outside the model's vocabulary of ${size} (manifest.json architecture.vocabSize)`);
      }
    }
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(json as object, {});
    } catch (e) {
      throw new ModelFileCorruptError('tokenizer.json', (e as Error).message);
    }
    const specialIds = new Map(added.map((t) => [t.content, t.id] as [string, number]));
    // FORMAT.md: byte-level BPE, so that streaming can decode token bytes itself.
    const bytes = json.model?.type === 'BPE' && json.decoder?.type === 'ByteLevel' ? byteLevelTable(vocab, added, size) : undefined;
    if (!bytes) throw new ModelFileCorruptError('tokenizer.json', 'not a byte-level BPE tokenizer (models/FORMAT.md: model BPE, decoder ByteLevel)');
    return new TextTokenizer(tok, specialIds, bytes);
  }

  /** Every token the manifest names (stop and FIM tokens) must be one of this tokenizer's. */
  checkManifestTokens(manifest: Manifest): void {
    const named: [string, string][] = [
      ...manifest.stopTokens.map((t, i): [string, string] => [`stopTokens[${i}]`, t]),
      ...(['prefixToken', 'suffixToken', 'middleToken', 'endOfTextToken', 'fileSeparatorToken'] as const)
        .flatMap((k): [string, string][] => (manifest.fim?.[k] === undefined ? [] : [[`fim.${k}`, manifest.fim[k]]])),
    ];
    for (const [field, token] of named) {
      if (!this.specialIds.has(token)) {
        throw new ModelManifestInvalidError(field, `names ${token}, which tokenizer.json does not have as an added token (its added tokens: ${[...this.specialIds.keys()].join(' ') || 'none'})`);
      }
    }
  }

  encode(text: string): number[] {
    if (text === '') return [];
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }

  /** Special tokens are dropped: they are control, not text. */
  decode(ids: readonly number[]): string {
    return this.tok.decode([...ids], { skip_special_tokens: true, clean_up_tokenization_spaces: false });
  }

  /** A decoder for streamed generation: only complete, valid characters; it ends at bytes that
   *  cannot be UTF-8 or at a control character other than newline and tab. */
  streamDecoder(): StreamDecoder {
    return new StreamDecoder(this.bytes);
  }

  specialId(token: string): number {
    const id = this.specialIds.get(token);
    if (id === undefined) throw new ModelFileCorruptError('tokenizer.json', `special token ${token} is missing`);
    return id;
  }
}
