// Chat prompts (Explain, Refactor) rendered with the checkpoint's ChatML template: the same text
// renderChatText counts, and a long
// user text cut at its start with the system text and turn markers kept.
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Manifest } from '../../../src/engine/manifest';
import { chatFormat, renderChatText, renderPromptIds } from '../../../src/engine/prompt';
import { TextTokenizer } from '../../../src/engine/tokenizer';
import { repoRoot } from '../../helpers/fixture';

const chatml = { chat: { format: 'chatml', template: '{% for m in messages %}…{% endfor %}' } } as unknown as Manifest;
const plain = {} as Manifest;

describe('renderPromptIds: chat', () => {
  let tok: TextTokenizer;
  let withSpecials: (ids: number[]) => string;
  before(async () => {
    tok = await TextTokenizer.load(path.join(repoRoot, 'test/fixtures/import/tiny-qwen2/tokenizer.json'));
    const names = new Map(['<|im_start|>', '<|im_end|>'].map((t) => [tok.specialId(t), t]));
    // decode() drops control tokens: decode the runs between them and write them by name
    withSpecials = (ids) => {
      let out = '', run: number[] = [];
      for (const id of [...ids, -1]) {
        if (id !== -1 && !names.has(id)) { run.push(id); continue; }
        out += (run.length ? tok.decode(run) : '') + (names.get(id) ?? '');
        run = [];
      }
      return out;
    };
  });

  it('renders ChatML up to the assistant turn, the text renderChatText gives', () => {
    const parts = { kind: 'chat' as const, system: 'You explain code.', user: 'Explain:\n```py\nx = 1\n```' };
    const ids = renderPromptIds(parts, tok, chatml, 2000);
    const [start, end] = [tok.specialId('<|im_start|>'), tok.specialId('<|im_end|>')];
    assert.equal(ids.filter((id) => id === start).length, 3);
    assert.equal(ids.filter((id) => id === end).length, 2);
    assert.equal(withSpecials(ids), renderChatText(parts.system, parts.user, 'chatml'));
    assert.ok(renderChatText(parts.system, parts.user, 'chatml').endsWith('<|im_end|>\n<|im_start|>assistant\n'));
  });

  it('cuts a long user text at its start, keeping the system text and the turn markers', () => {
    const user = 'line of code\n'.repeat(200) + 'Explain this code.';
    const ids = renderPromptIds({ kind: 'chat', system: 'SYSTEM', user }, tok, chatml, 120);
    assert.ok(ids.length <= 120, `${ids.length}`);
    const text = withSpecials(ids);
    assert.ok(text.startsWith('<|im_start|>system\nSYSTEM<|im_end|>\n<|im_start|>user\n'), text.slice(0, 80));
    assert.ok(text.endsWith('Explain this code.<|im_end|>\n<|im_start|>assistant\n'));
  });

  it('falls back to plain text for a model without a chat template', () => {
    assert.equal(chatFormat(plain), undefined);
    assert.equal(chatFormat(chatml), 'chatml');
    const ids = renderPromptIds({ kind: 'chat', system: 'S', user: 'U' }, tok, plain, 2000);
    assert.equal(withSpecials(ids), 'S\n\nU\n\n');
  });
});
