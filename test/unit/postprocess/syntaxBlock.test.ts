import assert from 'node:assert/strict';
import path from 'node:path';
import type { Block } from '../../../src/common/block';
import { SyntaxService } from '../../../src/context/syntax';
import { syntaxBlockEnd, WINDOW_PREFIX_CHARS, WINDOW_SUFFIX_CHARS } from '../../../src/postprocess/syntaxBlock';
import { truncateToBlock } from '../../../src/postprocess/truncate';
import type { BlockFinder } from '../../../src/postprocess/types';
import { repoRoot } from '../../helpers/fixture';

const GRAMMARS = path.join(repoRoot, 'node_modules/@vscode/tree-sitter-wasm/wasm');
const RUNTIME = path.join(repoRoot, 'node_modules/web-tree-sitter');

/** A finder that answers `block(text, offset)` and records what it was asked. */
function fake(block: (text: string, offset: number) => Block | undefined) {
  const asked: { text: string; offset: number }[] = [];
  const finder: BlockFinder = { blockAt: (text, offset) => (asked.push({ text, offset }), block(text, offset)) };
  return { finder, asked };
}

describe('syntaxBlockEnd', () => {
  const prefix = 'function f() {\n  ';
  const suggestion = 'g(() => {\n    x();\n  });\n}\n\nh();';
  const context = (syntax?: BlockFinder) => ({ prefix, suffix: '\n', languageId: 'typescript', syntax });
  /** The function's `}`, which the suggestion writes. */
  const closing = (text: string) => text.indexOf('}\n\n') + 1;

  it('steps aside without a finder or a language', () => {
    assert.equal(syntaxBlockEnd(suggestion, context()), undefined);
    assert.equal(syntaxBlockEnd(suggestion, { prefix, suffix: '', syntax: fake(() => ({ start: 0, end: 1 })).finder }), undefined);
  });

  it('steps aside when the finder has no parse', () => {
    assert.equal(syntaxBlockEnd(suggestion, context(fake(() => undefined).finder)), undefined);
  });

  it('asks about the suggestion\'s first character with code, and cuts where the block ends', () => {
    const { finder, asked } = fake((text) => ({ start: prefix.length - 3, end: closing(text) }));
    const spaced = '\n\n' + suggestion;
    assert.equal(spaced.slice(0, syntaxBlockEnd(spaced, context(finder))), '\n\ng(() => {\n    x();\n  });\n}');
    assert.equal(asked[0]!.offset, prefix.length + 2);
    assert.equal(asked[0]!.text, prefix + '\n\n' + suggestion + '\n');
  });

  it('keeps what closes the call around the block: `});`', () => {
    const { finder } = fake((text) => ({ start: 0, end: text.indexOf('});') + 1 }));
    assert.equal(suggestion.slice(0, syntaxBlockEnd(suggestion, context(finder))), 'g(() => {\n    x();\n  });');
  });

  it('keeps everything when the block ends after the suggestion', () => {
    const { finder } = fake((text) => ({ start: 0, end: text.length }));
    assert.equal(syntaxBlockEnd(suggestion, context(finder)), suggestion.length);
  });

  it('steps aside when the block has an error before the suggestion\'s end, not after it', () => {
    const before = fake((text) => ({ start: 0, end: closing(text), firstErrorAt: 3 })).finder;
    assert.equal(syntaxBlockEnd(suggestion, context(before)), undefined);
    const after = fake((text) => ({ start: 0, end: text.length, firstErrorAt: text.length })).finder;
    assert.equal(syntaxBlockEnd(suggestion, context(after)), suggestion.length);
  });

  it('parses a bounded window of a 10 MB document, starting at a line of least indentation', () => {
    const fn = 'function f() {\n  return 1;\n}\n';
    const body = '  '.concat('x();\n  '.repeat(100));
    const big = fn.repeat(Math.ceil(10_000_000 / fn.length));
    const { finder, asked } = fake((text) => ({ start: 0, end: text.length }));
    syntaxBlockEnd(suggestion, { prefix: big + 'function g() {\n' + body, suffix: '\n}\n' + big, languageId: 'typescript', syntax: finder });
    const { text, offset } = asked[0]!;
    assert.ok(text.length <= WINDOW_PREFIX_CHARS + suggestion.length + WINDOW_SUFFIX_CHARS, `window of ${text.length} chars`);
    assert.ok(text.startsWith('function f() {\n'), 'the window starts at a top-level line');
    assert.equal(text.slice(offset, offset + suggestion.length), suggestion);
  });
});

describe('truncateToBlock on tree-sitter', () => {
  let service: SyntaxService;
  before(async () => {
    service = await SyntaxService.load(GRAMMARS, { runtimeDir: RUNTIME });
  });
  after(() => service.dispose());

  const prefix = 'function f(x: number) {\n  ';
  const suggestion = 'return `\n${x}\n`;\n}\n\nfunction g() {';
  const context = () => ({ prefix, suffix: '\n', languageId: 'typescript', syntax: service });

  it('the first request, before the grammar has loaded, follows indentation; a later one syntax', async () => {
    assert.equal(truncateToBlock(suggestion, context()), 'return `');
    await service.warm('typescript');
    assert.equal(truncateToBlock(suggestion, context()), 'return `\n${x}\n`;\n}');
  });

  it('a parse out of time follows indentation', async () => {
    await service.warm('typescript');
    const slow: BlockFinder = { blockAt: (text, offset, languageId) => service.blockAt(text, offset, languageId, 0) };
    const filler = 'const a = [1, 2, 3].map((n) => n * 2);\n'.repeat(150);
    assert.equal(truncateToBlock(suggestion, { ...context(), prefix: filler + prefix, syntax: slow }), 'return `');
  });
});
