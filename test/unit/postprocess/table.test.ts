import assert from 'node:assert/strict';
import path from 'node:path';
import { SyntaxService } from '../../../src/context/syntax';
import { postprocess, type BlockFinder, type SuggestionContext } from '../../../src/postprocess';
import { repoRoot } from '../../helpers/fixture';
import { CASES, CURSOR, CUT, type Case } from './cases';

const GRAMMARS = path.join(repoRoot, 'node_modules/@vscode/tree-sitter-wasm/wasm');
const RUNTIME = path.join(repoRoot, 'node_modules/web-tree-sitter');

function contextOf(c: Case): SuggestionContext {
  const at = c.doc.indexOf(CURSOR);
  assert.ok(at >= 0 && c.doc.indexOf(CURSOR, at + 1) < 0, `exactly one ${CURSOR} in ${JSON.stringify(c.doc)}`);
  return { prefix: c.doc.slice(0, at), suffix: c.doc.slice(at + CURSOR.length), languageId: c.languageId };
}

function expected(c: Case, withSyntax: boolean): string | undefined {
  const want = !withSyntax && c.fallback !== undefined ? c.fallback : c.shown;
  if (want !== undefined) return want ?? undefined;
  const cut = c.raw.indexOf(CUT);
  return (cut < 0 ? c.raw : c.raw.slice(0, cut)).trimEnd();
}

describe('postprocess: what is shown, per language', () => {
  let service: SyntaxService;
  // A generous parse budget: a test machine under load must not turn a parse into a timeout.
  const syntax: BlockFinder = { blockAt: (text, offset, languageId) => service.blockAt(text, offset, languageId, 1_000) };
  before(async () => {
    service = await SyntaxService.load(GRAMMARS, { runtimeDir: RUNTIME });
    for (const languageId of new Set(CASES.map((c) => c.languageId))) await service.warm(languageId);
  });
  after(() => service.dispose());

  for (const withSyntax of [true, false]) {
    describe(withSyntax ? 'with tree-sitter' : 'without a syntax tree (indentation)', () => {
      for (const c of CASES) {
        it(c.name, () => {
          const context = { ...contextOf(c), syntax: withSyntax ? syntax : undefined };
          assert.equal(postprocess(c.raw.replace(CUT, ''), context), expected(c, withSyntax));
        });
      }
    });
  }
});
