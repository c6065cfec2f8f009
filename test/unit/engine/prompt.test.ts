// Prompt rendering with the fixture model's tokenizer and FIM tokens: the prompt fits its budget, and
// a prefix cut to fit keeps its first token while the user types at its end (for KV-prefix reuse).
import assert from 'node:assert/strict';
import { requireV1, type Manifest, type ManifestV1 } from '../../../src/engine/manifest';
import { openModelDir } from '../../../src/engine/modelDir';
import { renderPromptIds } from '../../../src/engine/prompt';
import { TextTokenizer } from '../../../src/engine/tokenizer';
import type { PromptParts } from '../../../src/engine/types';
import { fixtureModelDir } from '../../helpers/fixture';

const code = 'def scale(values, factor):\n    return [v * factor for v in values]\n\n';

describe('renderPromptIds', () => {
  let tok: TextTokenizer;
  let manifest: ManifestV1;
  let pre: number, suf: number, mid: number;
  before(async () => {
    const dir = await openModelDir(fixtureModelDir);
    manifest = requireV1(dir.manifest, 'test');
    tok = await TextTokenizer.load(dir.file('tokenizer.json'));
    [pre, suf, mid] = [manifest.fim.prefixToken, manifest.fim.suffixToken, manifest.fim.middleToken].map((t) => tok.specialId(t));
  });

  const render = (parts: PromptParts, budget: number) => renderPromptIds(parts, tok, manifest, budget);
  /** How many tokens of the prefix's encoding the rendered prompt left out at the front. */
  function prefixStart(prefix: string, suffix: string, budget: number): number {
    const ids = render({ kind: 'fim', prefix, suffix }, budget);
    return tok.encode(prefix).length - (ids.indexOf(suf) - 1);
  }

  it('renders a prompt that fits as <pre> prefix <suf> suffix <mid>, uncut', () => {
    const ids = render({ kind: 'fim', prefix: 'x = ', suffix: '\nprint(x)\n' }, 2000);
    assert.deepEqual(ids, [pre, ...tok.encode('x = '), suf, ...tok.encode('\nprint(x)\n'), mid]);
  });

  it('keeps every prompt within its budget, and the prefix most of its room', () => {
    for (const budget of [16, 40, 100, 500, 2000]) {
      for (const [p, s] of [[50, 0], [50, 50], [0, 50], [3, 50], [50, 3]]) {
        const prefix = code.repeat(p);
        const suffix = code.repeat(s);
        const ids = render({ kind: 'fim', prefix, suffix }, budget);
        const prefixTokens = ids.indexOf(suf) - 1;
        const suffixTokens = ids.length - prefixTokens - 3;
        assert.ok(ids.length <= budget, `budget ${budget}, ${p}/${s}: ${ids.length} tokens`);
        const room = budget - 3;
        if (tok.encode(prefix).length + tok.encode(suffix).length <= room) continue;
        assert.equal(suffixTokens, Math.min(tok.encode(suffix).length, room - prefixTokens), 'the suffix takes what the prefix left');
        assert.ok(prefixTokens >= Math.min(tok.encode(prefix).length, Math.floor(room * 0.75) - Math.min(64, Math.floor(room / 4))),
          `budget ${budget}, ${p}/${s}: prefix kept ${prefixTokens}`);
      }
    }
    const text = render({ kind: 'text', text: code.repeat(50) }, 300);
    assert.ok(text.length <= 300 && text.length >= 300 - 64);
    assert.deepEqual(text, tok.encode(code.repeat(50)).slice(-text.length));
  });

  it('starts a cut prefix at the same token when prefixes differ by a few trailing characters', () => {
    const long = code.repeat(60);
    const budget = 1000;
    assert.ok(tok.encode(long).length > budget, 'the prefix must be cut');
    const start = prefixStart(long, '\n', budget);
    assert.ok(start > 0);
    for (const typed of ['d', 'de', 'def', 'def ', 'def sc']) assert.equal(prefixStart(long + typed, '\n', budget), start, `after typing ${JSON.stringify(typed)}`);
    const a = render({ kind: 'fim', prefix: long, suffix: '\n' }, budget);
    const b = render({ kind: 'fim', prefix: long + 'def', suffix: '\n' }, budget);
    let common = 0;
    while (a[common] === b[common]) common++;
    assert.ok(common >= a.indexOf(suf) - 1, `${common} common tokens of ${a.length}: only the tail of the prefix differs`);
  });

  it('moves the window start by whole chunks, rarely, as the prefix grows', () => {
    const budget = 500;
    const base = code.repeat(30);
    const starts = new Set<number>();
    let typed = '';
    for (const ch of code.repeat(3)) {
      typed += ch;
      starts.add(prefixStart(base + typed, '', budget));
    }
    const grownTokens = tok.encode(base + typed).length - tok.encode(base).length;
    assert.ok(starts.size <= Math.ceil(grownTokens / 64) + 1, `${starts.size} window starts over ${grownTokens} tokens typed`);
    for (const s of starts) assert.equal(s % 64, 0, `start ${s} is a whole number of chunks`);
  });

  it('renders the prefix alone for a model without FIM tokens (fim is optional in format v2)', () => {
    const { id, displayName, architecture, contextTokens, stopTokens, ffn, files } = manifest;
    const noFim: Manifest = { format: 'flashcode-model', formatVersion: 2, id, displayName, architecture, contextTokens, stopTokens, ffn, files, weights: { file: 'weights.bin' }, quantization: 'q8_32' };
    const prefix = 'def f(x):\n    return ';
    assert.deepEqual(renderPromptIds({ kind: 'fim', prefix, suffix: '\nprint(f(2))\n' }, tok, noFim, 2000), tok.encode(prefix));
    const long = code.repeat(20);
    const cut = renderPromptIds({ kind: 'fim', prefix: long, suffix: 'x' }, tok, noFim, 100);
    assert.ok(cut.length <= 100 && cut.length > 0);
    assert.deepEqual(cut, tok.encode(long).slice(-cut.length), 'the end of the prefix is kept');
  });

  describe('in suffix-prefix-middle order (fim.order "spm")', () => {
    const spm = () => ({ ...manifest, fim: { ...manifest.fim, order: 'spm' as const } });
    const renderSpm = (parts: PromptParts, budget: number) => renderPromptIds(parts, tok, spm(), budget);

    it('renders <pre> <suf> suffix <mid> prefix, so the answer continues the prefix', () => {
      const ids = renderSpm({ kind: 'fim', prefix: 'x = ', suffix: '\nprint(x)\n' }, 2000);
      assert.deepEqual(ids, [pre, suf, ...tok.encode('\nprint(x)\n'), mid, ...tok.encode('x = ')]);
    });

    it('keeps the prompt within its budget, the suffix at its fixed share when both are long', () => {
      for (const budget of [16, 40, 100, 500, 2000]) {
        for (const [p, s] of [[50, 0], [50, 50], [0, 50], [3, 50], [50, 3]]) {
          const prefix = code.repeat(p), suffix = code.repeat(s);
          const ids = renderSpm({ kind: 'fim', prefix, suffix }, budget);
          assert.ok(ids.length <= budget, `budget ${budget}, ${p}/${s}: ${ids.length} tokens`);
          const room = budget - 3;
          const suffixTokens = ids.indexOf(mid) - 2;
          if (tok.encode(prefix).length + tok.encode(suffix).length > room) {
            assert.equal(suffixTokens, Math.min(tok.encode(suffix).length, Math.floor(room * 0.25)));
          }
        }
      }
    });

    it('changes only the end of the prompt while the user types at the cursor', () => {
      const prefix = code.repeat(60), suffix = code.repeat(20);
      const budget = 500;
      const before = renderSpm({ kind: 'fim', prefix, suffix }, budget);
      for (const typed of ['d', 'def', 'def sc', 'def scale(']) {
        const after = renderSpm({ kind: 'fim', prefix: prefix + typed, suffix }, budget);
        let common = 0;
        while (before[common] === after[common]) common++;
        assert.ok(common >= before.length - 2, `after typing ${JSON.stringify(typed)}: ${common} of ${before.length} tokens kept`);
      }
    });
  });
});
