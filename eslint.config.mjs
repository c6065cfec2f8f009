import tseslint from 'typescript-eslint';

// Which folders of src/ each folder may import, besides itself: imports go down this table, never up
// or sideways. Stages (context, postprocess, engine, …) share only common/; the orchestrators
// (completion, commands) put stages together; eval and host sit on top. The files directly in src/
// (extension.ts, cli.ts, importCommand.ts, settingsSchema.ts) are the top and may import anything.
// A shared type goes down to the lowest folder that needs it (common/ when two stages do).
const MAY_IMPORT = {
  common: [],
  privacy: ['common'],
  power: ['common'],
  router: ['common'],
  cloud: ['common'],
  engine: ['common'],
  models: ['common', 'engine'],
  context: ['common'],
  postprocess: ['common'],
  completion: ['common', 'engine', 'context', 'postprocess'],
  commands: ['common', 'engine', 'context', 'privacy', 'router', 'cloud'],
  eval: ['common', 'engine', 'context', 'postprocess', 'completion'],
  host: ['common', 'privacy', 'power', 'router', 'cloud', 'engine', 'models', 'context', 'postprocess', 'completion', 'commands'],
};
const FOLDERS = Object.keys(MAY_IMPORT);
// The files directly in src/ and the folders that may import each: the entry points none.
const TOP_FILES = { extension: [], cli: [], importCommand: [], settingsSchema: ['host'] };
// The patterns below read a folder from the import's text (`../../completion/x`), so a subfolder
// must never share a top folder's name (test/unit/lint/importRules.test.ts checks).

// Packages with exactly one importer each. Matched as a prefix: a subpath (`onnxruntime-web/wasm`)
// is the same package.
const PACKAGES = [
  { name: 'vscode', ownerFolders: ['host'], ownerFiles: ['src/extension.ts'], message: "Only src/extension.ts and src/host/ may import 'vscode'; pass plain data and an AbortSignal instead." },
  { name: 'onnxruntime-web', ownerFolders: [], ownerFiles: ['src/engine/backend/ort.ts'], message: 'Only src/engine/backend/ort.ts may import onnxruntime-web (or any of its subpaths).' },
  { name: 'web-tree-sitter', ownerFolders: [], ownerFiles: ['src/context/syntax.ts'], message: 'Only src/context/syntax.ts may import web-tree-sitter (or any of its subpaths).' },
];

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const packagePattern = (p) => ({ regex: `^${escape(p.name)}(/|$)`, message: p.message });

/** The no-restricted-imports rule for the files of src/<folder>/ (folder undefined: src/*.ts) that
 *  may import the packages in `allowed`. */
function fence(folder, allowed) {
  const patterns = PACKAGES.filter((p) => !allowed.includes(p)).map(packagePattern);
  if (folder !== undefined) {
    // From src/<folder>/…/x.ts: a relative import that climbs out and names another top folder.
    const forbidden = FOLDERS.filter((f) => f !== folder && !MAY_IMPORT[folder].includes(f));
    if (forbidden.length > 0) {
      const may = MAY_IMPORT[folder].length > 0 ? `only ${MAY_IMPORT[folder].map((f) => `src/${f}/`).join(', ')}` : 'nothing else in src/';
      patterns.push({
        regex: `^(\\.\\./)+(${forbidden.join('|')})(/|$)`,
        message: `src/${folder}/ may import ${may}: imports go down (MAY_IMPORT in eslint.config.mjs). Move what both need down instead.`,
      });
    }
    const topFiles = Object.keys(TOP_FILES).filter((f) => !TOP_FILES[f].includes(folder));
    patterns.push({
      regex: `^(\\.\\./)+(${topFiles.join('|')})$`,
      message: `src/${folder}/ may not import ${topFiles.map((f) => `src/${f}.ts`).join(', ')}: the files directly in src/ are above every folder. Move what you need down.`,
    });
  }
  return ['error', { patterns }];
}

/** One config block per folder, and one per package owner in it: a later block's rule replaces an
 *  earlier one's for the files both match. */
function fences() {
  const blocks = [];
  for (const folder of FOLDERS) {
    const folderAllowed = PACKAGES.filter((p) => p.ownerFolders.includes(folder));
    blocks.push({ files: [`src/${folder}/**/*.ts`], rules: { 'no-restricted-imports': fence(folder, folderAllowed) } });
    for (const p of PACKAGES) {
      for (const file of p.ownerFiles.filter((f) => f.startsWith(`src/${folder}/`))) {
        blocks.push({ files: [file], rules: { 'no-restricted-imports': fence(folder, [...folderAllowed, p]) } });
      }
    }
  }
  blocks.push({ files: ['src/*.ts'], rules: { 'no-restricted-imports': fence(undefined, []) } });
  for (const p of PACKAGES) {
    for (const file of p.ownerFiles.filter((f) => /^src\/[^/]+\.ts$/.test(f))) {
      blocks.push({ files: [file], rules: { 'no-restricted-imports': fence(undefined, [p]) } });
    }
  }
  return blocks;
}

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', '.cache/**', 'node_modules/**', 'test-results/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // Tests, benches and scripts run outside the editor too.
      'no-restricted-imports': ['error', { patterns: [packagePattern(PACKAGES[0])] }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      // `import('../x').T` in a type would pass the fences below unseen.
      'no-restricted-syntax': ['error', { selector: 'TSImportType', message: 'Import the type with an import statement, so that the import rules see it.' }],
    },
  },
  ...fences(),
);
