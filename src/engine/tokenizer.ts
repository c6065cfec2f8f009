// tokenizer.json (Hugging Face format) through @huggingface/tokenizers, plus the lookups the engine
// needs: special-token ids and incremental decoding for streaming.
import { Tokenizer } from '@huggingface/tokenizers';
import fs from 'node:fs/promises';
import { ModelFileCorruptError } from './errors';

export class TextTokenizer {
  private constructor(private readonly tok: Tokenizer, private readonly specialIds: Map<string, number>) {}

  static async load(file: string): Promise<TextTokenizer> {
    let json: { added_tokens?: { id: number; content: string; special?: boolean }[] };
    try {
      json = JSON.parse(await fs.readFile(file, 'utf8'));
    } catch (e) {
      throw new ModelFileCorruptError('tokenizer.json', (e as Error).message);
    }
    const specialIds = new Map((json.added_tokens ?? []).map((t) => [t.content, t.id] as [string, number]));
    return new TextTokenizer(new Tokenizer(json, {}), specialIds);
  }

  encode(text: string): number[] {
    if (text === '') return [];
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }

  /** Special tokens are dropped: they are control, not text. */
  decode(ids: readonly number[]): string {
    return this.tok.decode([...ids], { skip_special_tokens: true, clean_up_tokenization_spaces: false });
  }

  specialId(token: string): number {
    const id = this.specialIds.get(token);
    if (id === undefined) throw new ModelFileCorruptError('tokenizer.json', `special token ${token} is missing`);
    return id;
  }
}
