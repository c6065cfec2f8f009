// The import rules of eslint.config.mjs, on code written for the test at paths of src/: a forbidden
// import fails lint with its message, an allowed one passes. And src/ has no import cycles.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';

const root = path.join(__dirname, '../../..');

/** [file the code is linted as, import statement, the message it must fail with (undefined: passes)] */
const CASES: [string, string, RegExp | undefined][] = [
  // Folders import down, never up or sideways (the four).
  ['src/common/x.ts', "import type { CompletionMode } from '../completion/types';", /src\/common\/ may import nothing else in src\//],
  ['src/cloud/x.ts', "import type { TaskDeps } from '../commands/types';", /src\/cloud\/ may import only src\/common\//],
  ['src/cloud/x.ts', "import { AbortedError } from '../engine/errors';", /src\/cloud\/ may import only src\/common\//],
  ['src/postprocess/x.ts', "import type { Block } from '../context/syntax';", /src\/postprocess\/ may import only src\/common\//],
  ['src/context/x.ts', "import type { CompletionResult } from '../completion/types';", /src\/context\/ may import only src\/common\//],
  ['src/engine/v2/x.ts', "import type { CompletionMode } from '../../completion/types';", /src\/engine\/ may import only src\/common\//],
  ['src/completion/x.ts', "import { runTask } from '../commands/runTask';", /src\/completion\/ may import only/],
  ['src/engine/x.ts', "import { SETTINGS } from '../settingsSchema';", /may not import .*src\/settingsSchema\.ts/],
  ['src/host/x.ts', "import { main } from '../cli';", /may not import src\/extension\.ts, src\/cli\.ts/],
  ['src/commands/x.ts', "type E = import('../engine').Engine;", /Import the type with an import statement/],
  ['src/completion/x.ts', "import type { CompletionRequest } from '../context/types';", undefined],
  ['src/completion/x.ts', "import { postprocess } from '../postprocess';", undefined],
  ['src/engine/v2/x.ts', "import { EngineError } from '../errors';", undefined],
  ['src/cloud/x.ts', "import { AbortedError } from '../common/abortable';", undefined],
  ['src/host/x.ts', "import { SETTINGS } from '../settingsSchema';", undefined],
  ['src/cli.ts', "import { runEval } from './eval/command';", undefined],
  // Packages with one importer each, subpaths included.
  ['src/engine/x.ts', "import * as ort from 'onnxruntime-web/wasm';", /Only src\/engine\/backend\/ort\.ts may import onnxruntime-web/],
  ['src/engine/x.ts', "import * as ort from 'onnxruntime-web';", /Only src\/engine\/backend\/ort\.ts may import onnxruntime-web/],
  ['src/engine/backend/ort.ts', "import * as ort from 'onnxruntime-web/wasm';", undefined],
  ['src/context/x.ts', "import { Parser } from 'web-tree-sitter';", /Only src\/context\/syntax\.ts may import web-tree-sitter/],
  ['src/context/syntax.ts', "import { Parser } from 'web-tree-sitter';", undefined],
  ['src/completion/x.ts', "import * as vscode from 'vscode';", /Only src\/extension\.ts and src\/host\/ may import 'vscode'/],
  ['src/cli.ts', "import * as vscode from 'vscode';", /Only src\/extension\.ts and src\/host\/ may import 'vscode'/],
  ['test/unit/x.test.ts', "import * as vscode from 'vscode';", /Only src\/extension\.ts and src\/host\/ may import 'vscode'/],
  ['src/host/x.ts', "import * as vscode from 'vscode';", undefined],
  ['src/extension.ts', "import * as vscode from 'vscode';", undefined],
  // Tests may reach into any folder.
  ['test/unit/x.test.ts', "import type { Block } from '../../src/common/block';", undefined],
];

describe('import rules (eslint.config.mjs)', function () {
  this.timeout(60_000);
  const eslint = new ESLint({ cwd: root });

  for (const [file, code, fails] of CASES) {
    it(`${file}: ${code} ${fails ? 'fails' : 'passes'}`, async () => {
      const [result] = await eslint.lintText(`${code}\nexport type Used = unknown;\n`, { filePath: path.join(root, file) });
      const messages = result!.messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax').map((m) => m.message);
      if (fails) {
        assert.equal(messages.length, 1, JSON.stringify(messages));
        assert.match(messages[0]!, fails);
      } else {
        assert.deepEqual(messages, []);
      }
    });
  }

  it('no folder under src/ has the name of a top folder (the rules read folders from import paths)', () => {
    const top = fs.readdirSync(path.join(root, 'src'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    const nested = (fs.readdirSync(path.join(root, 'src'), { recursive: true, withFileTypes: true }) as fs.Dirent[])
      .filter((d) => d.isDirectory() && path.relative(path.join(root, 'src'), d.parentPath) !== '')
      .map((d) => path.relative(root, path.join(d.parentPath, d.name)));
    assert.deepEqual(nested.filter((d) => top.includes(path.basename(d))), []);
  });

  it('every top folder of src/ is in the rules', () => {
    const top = fs.readdirSync(path.join(root, 'src'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    const configText = fs.readFileSync(path.join(root, 'eslint.config.mjs'), 'utf8');
    const table = configText.slice(configText.indexOf('const MAY_IMPORT'), configText.indexOf('};', configText.indexOf('const MAY_IMPORT')));
    assert.deepEqual(top.filter((folder) => !new RegExp(`^  ${folder}: \\[`, 'm').test(table)), []);
  });
});

// Cycles that predate the rule, each with why it is left: a new cycle fails, and so does one of these
// once it is gone (then delete it here).
const KNOWN_CYCLES = [
  // manifest.ts dispatches to parseManifestV2, which reuses manifest.ts's field readers.
  'src/engine/manifest.ts ↔ src/engine/manifestV2.ts',
];

describe('src/ import graph', () => {
  it('has no import cycles but the known ones', () => {
    const files = (fs.readdirSync(path.join(root, 'src'), { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts')).map((f) => path.join('src', f));
    const known = new Set(files);
    const resolve = (from: string, spec: string) => {
      const base = path.normalize(path.join(path.dirname(from), spec));
      return [`${base}.ts`, path.join(base, 'index.ts')].find((c) => known.has(c));
    };
    const edges = new Map(files.map((f) => {
      // Only statements at the start of a line: calibrationSample.ts holds source code in a string.
      const specs = [...fs.readFileSync(path.join(root, f), 'utf8').matchAll(/^(?:import|export)\b[^;]*?\bfrom '(\.[^']+)'/gms)].map((m) => m[1]!);
      return [f, specs.map((s) => resolve(f, s)).filter((t): t is string => t !== undefined)];
    }));
    // Tarjan's strongly connected components.
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const cycles: string[] = [];
    const visit = (v: string) => {
      index.set(v, index.size);
      low.set(v, index.get(v)!);
      stack.push(v);
      for (const w of edges.get(v)!) {
        if (!index.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (stack.includes(w)) {
          low.set(v, Math.min(low.get(v)!, index.get(w)!));
        }
      }
      if (low.get(v) === index.get(v)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          component.push(w);
        } while (w !== v);
        if (component.length > 1) cycles.push(component.sort().join(' ↔ '));
      }
    };
    for (const f of files) if (!index.has(f)) visit(f);
    assert.deepEqual(cycles.sort(), [...KNOWN_CYCLES].sort());
  });
});
