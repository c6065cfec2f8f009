import assert from 'node:assert/strict';
import path from 'node:path';
import { refuseProposal } from '../../../src/commands/proposalCheck';
import { SyntaxService } from '../../../src/context/syntax';
import { repoRoot } from '../../helpers/fixture';

const GRAMMARS = path.join(repoRoot, 'node_modules/@vscode/tree-sitter-wasm/wasm');
const RUNTIME = path.join(repoRoot, 'node_modules/web-tree-sitter');

const MEAN = 'def mean(xs):\n    total = sum(xs)\n    count = len(xs)\n    return total / count\n';
const ADD = 'export function add(a: number, b: number): number {\n  const sum = a + b;\n  return sum;\n}\n';
const TOTAL = 'def total(xs):\n    t = 0\n    for x in xs:\n        t += x\n    return t\n';
const METHOD_TS = 'area(): number {\n    const r = this.radius;\n    return Math.PI * r * r;\n  }';
const METHOD_PY = 'def area(self):\n        r = self.radius\n        return math.pi * r * r';

describe('refuseProposal', () => {
  let syntax: SyntaxService;
  before(async () => { syntax = await SyntaxService.load(GRAMMARS, { runtimeDir: RUNTIME }); });
  after(() => syntax.dispose());

  // [name, languageId, original, proposed, why it is refused (undefined: offered)]
  const cases: Array<[string, string, string, string, RegExp | undefined]> = [
    ['"Add documentation" that deleted the function (issue 18)', 'python', MEAN, '"""Return the mean of xs."""\n', /^it has no code left, only comments or text$/],
    ['"Simplify" answered with comment lines only (issue 18)', 'python', MEAN, Array.from({ length: 32 }, (_, i) => `# step ${i}: keep it simple`).join('\n'), /^it has no code left/],
    ['the bundled model on a 3-line function: a looping comment', 'typescript', 'export function perimeter(width: number, height: number): number {\n  return 2 * (width + height);\n}', `// CodeMirror: https://github.com/${'math/'.repeat(60)}`, /^it repeats “\/math” \d+ times$/],
    ['a small function replaced by a comment', 'typescript', 'export function perimeter(width: number, height: number): number {\n  return 2 * (width + height);\n}', '// The perimeter of a rectangle.', /^it has no code left/],
    ['a rewrite that drops most of the code', 'python', MEAN, 'def mean(xs):\n    pass\n', /^it drops most of the original code \(2 of its 6 names are left\)$/],
    ['the same line over and over', 'python', MEAN, `def mean(xs):\n${'    total = sum(xs)\n'.repeat(12)}`, /^it repeats “total = sum\(xs\)” 12 times$/],
    ['a rewrite that does not parse', 'typescript', ADD, 'export function add(a: number, b: number: number {\n  return a + b;\n}\n', /^it does not parse as typescript, though the original does$/],
    ['documentation added: offered', 'python', MEAN, `def mean(xs):\n    """The arithmetic mean of xs."""\n${MEAN.split('\n').slice(1).join('\n')}`, undefined],
    ['a real simplification: offered', 'python', TOTAL, 'def total(xs):\n    return sum(xs)\n', undefined],
    ['a rename: offered', 'typescript', ADD, 'export function add(left: number, right: number): number {\n  const result = left + right;\n  return result;\n}\n', undefined],
    ['a TypeScript method (parses only inside a class): offered', 'typescript', METHOD_TS, `/** The area. */\n  ${METHOD_TS}`, undefined],
    ['a TypeScript method broken by the rewrite', 'typescript', METHOD_TS, 'area(): number {\n    const r = this.radius\n    return Math.PI * r * r;\n  ', /does not parse/],
    ['a Python method picked without its indentation: offered', 'python', METHOD_PY, 'def area(self):\n        """The area."""\n        r = self.radius\n        return math.pi * r * r', undefined],
    ['a Python method broken by the rewrite', 'python', METHOD_PY, 'def area(self:\n        r = self.radius\n        return math.pi * r * r', /does not parse/],
    ['a fragment that never parsed: not judged by parsing', 'typescript', 'a + b) * c;\n  return total', 'a + b) * c; // sum\n  return total', undefined],
    ['no grammar for the language: names are words', 'lua', 'local function mean(xs)\n  local total = sum(xs)\n  return total / count(xs)\nend\n', '-- mean\n', /drops most/],
    ['a tiny original is not judged by names', 'python', 'x = 1\n', 'y = 2\n', undefined],
  ];
  for (const [name, languageId, original, proposed, refused] of cases) {
    it(name, async () => {
      const why = await refuseProposal(original, proposed, languageId, syntax);
      if (refused) assert.match(why ?? 'offered', refused);
      else assert.equal(why, undefined);
    });
  }

  it('without a parser, names are words: the deleted function is still refused', async () => {
    assert.match(await refuseProposal(MEAN, '# Returns the mean.\n', 'python') ?? 'offered', /drops most/);
  });
});
