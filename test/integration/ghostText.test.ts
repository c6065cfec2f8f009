// Ghost text never holds broken characters: emoji prompts on the bundled model (which emits byte
// tokens that do not form UTF-8), and the stream decoder on hand-made byte sequences.
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadInProcessEngine, type InProcessEngine } from '../../src/engine/local';
import { TextTokenizer } from '../../src/engine/tokenizer';
import { postprocess } from '../../src/postprocess';
import { skipReason } from '../../src/completion/prefilter';
import { repoRoot } from '../helpers/fixture';

const bundled = path.join(repoRoot, 'models/flashcode-code-v1');
const BAD = /[\uFFFD\u0000-\u0008\u000B-\u001F\u007F-\u009F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('ghost text holds only whole, printable characters', () => {
  let engine: InProcessEngine;
  let tokenizer: TextTokenizer;
  before(async () => {
    engine = await loadInProcessEngine({ modelDir: bundled });
    tokenizer = await TextTokenizer.load(path.join(bundled, 'tokenizer.json'), engine.info.vocabSize);
  });
  after(() => engine.dispose());

  const prompts = [
    { prefix: 'print("Hello 👋 world 🌍")\nprint("', suffix: '")\n' },
    { prefix: '# 🎉🎉🎉 party 🥳 time 🚀\nmessage = "', suffix: '' },
    { prefix: 'const greet = "こんにちは 世界 👋";\nconst bye = "', suffix: '";\n' },
    { prefix: 'emoji = ["😀", "😃", "😄", "', suffix: '' },
  ];
  for (const p of prompts) {
    it(`on ${JSON.stringify(p.prefix.slice(0, 30))}: every streamed piece and the result are valid text`, async () => {
      for (const temperature of [0, 1]) {
        for (const seed of [1, 2, 3]) {
          const pieces: string[] = [];
          const r = await engine.generate({ prompt: { kind: 'fim', ...p }, maxNewTokens: 32, temperature, topP: 1, seed, timeBudgetMs: 60_000 }, { onText: (t) => pieces.push(t) });
          for (const piece of pieces) assert.doesNotMatch(piece, BAD, `streamed ${JSON.stringify(piece)}`);
          assert.doesNotMatch(r.text, BAD, JSON.stringify(r.text));
          assert.equal(pieces.join(''), r.text);
          const shown = postprocess(r.text, { prefix: p.prefix, suffix: p.suffix }) ?? '';
          assert.doesNotMatch(shown, BAD, JSON.stringify(shown));
          if (temperature === 0) break;
        }
      }
    });
  }

  it('a character split across tokens shows only once whole', () => {
    const text = 'a👋b🌍c';
    const decoder = tokenizer.streamDecoder();
    const seen: string[] = [];
    for (const id of tokenizer.encode(text)) { decoder.push(id); seen.push(decoder.text); }
    assert.ok(tokenizer.encode(text).length > 5, 'emoji are split into byte tokens');
    for (const s of seen) assert.doesNotMatch(s, BAD);
    assert.deepEqual([...new Set(seen)], ['a', 'a👋', 'a👋b', 'a👋b🌍', 'a👋b🌍c']);
    assert.equal(decoder.ended, undefined);
  });

  it('bytes that can never be UTF-8 end the text before them; so does NUL', () => {
    const lead = tokenizer.encode('👋').slice(0, 1); // the emoji's first byte(s) alone
    const d = tokenizer.streamDecoder();
    for (const id of [...tokenizer.encode('ok '), ...lead, ...tokenizer.encode('x more')]) d.push(id);
    assert.equal(d.text, 'ok ');
    assert.equal(d.ended, 'invalid-utf8');
    const n = tokenizer.streamDecoder();
    for (const id of [...tokenizer.encode('x = 1'), ...tokenizer.encode('\0'), ...tokenizer.encode('y')]) n.push(id);
    assert.equal(n.text, 'x = 1');
    assert.equal(n.ended, 'control-char');
  });

  it('postprocess cuts at U+FFFD unless the document holds one, and at control characters', () => {
    assert.equal(postprocess('abc\uFFFDdef', { prefix: 'x = "', suffix: '' }), 'abc');
    assert.equal(postprocess('abc\uFFFDdef', { prefix: 'x = "\uFFFD', suffix: '' }), 'abc\uFFFDdef');
    assert.equal(postprocess('a\u0000b', { prefix: '', suffix: '' }), 'a');
    assert.equal(postprocess('a\u001bb', { prefix: '', suffix: '' }), 'a');
    assert.equal(postprocess('a\uD83Db', { prefix: '', suffix: '' }), 'a');
    assert.equal(postprocess('x\r\ny', { prefix: '', suffix: '' }), 'x\r\ny');
  });

  it('no suggestion with the cursor inside a surrogate pair', () => {
    const text = 'print("👋")';
    const at = text.indexOf('👋') + 1;
    assert.equal(skipReason({ prefix: text.slice(0, at), suffix: text.slice(at) } as Parameters<typeof skipReason>[0]), 'cursor inside a surrogate pair');
  });
});
