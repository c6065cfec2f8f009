// The user and developer documentation stays true: README's settings section is package.json's,
// every file a document points to is in a clone, and the README's screenshots ship in the .vsix.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { minimatch } from 'minimatch';
import { renderSettings, withSettings } from '../../../scripts/settings-doc.mjs';

const root = path.join(__dirname, '../../..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');

const DOCS = ['README.md', 'CONTRIBUTING.md', ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
// Top-level folders a clone has: a `code span` starting with one of them names a file of the clone.
const TRACKED_TOP = ['src', 'test', 'scripts', 'models', 'docs', 'bench', 'media', 'syntaxes', '.ci'];

/** Markdown without its fenced code blocks (their text is commands and output, not links). */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '');
}

function links(markdown: string): string[] {
  return [...prose(markdown).matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

/** `code spans` that name a path of the clone: from the root (`src/…`) or from the document (`../…`). */
function codePaths(markdown: string): string[] {
  return [...prose(markdown).matchAll(/`([^`\s]+)`/g)].map((m) => m[1]!)
    .filter((p) => (p.startsWith('../') || TRACKED_TOP.some((top) => p.startsWith(`${top}/`))) && !/[*<>{}]|\bDIR\b/.test(p));
}

/** GitHub's anchor for a heading. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-');
}

function isIgnored(file: string): boolean {
  return spawnSync('git', ['check-ignore', '-q', file], { cwd: root }).status === 0;
}

describe('documentation', () => {
  it('README.md lists every flashcode.* setting as package.json declares it (node scripts/settings-doc.mjs rewrites it)', () => {
    const readme = read('README.md');
    assert.equal(readme, withSettings(readme, renderSettings(JSON.parse(read('package.json')))),
      'README.md\'s settings section differs from package.json: run `node scripts/settings-doc.mjs`');
  });

  it('the generated section names each setting once, with its default', () => {
    const manifest = JSON.parse(read('package.json'));
    const section = renderSettings(manifest);
    for (const [key, schema] of Object.entries<{ default: unknown }>(manifest.contributes.configuration.properties)) {
      assert.equal(section.split(`**\`${key}\`**`).length, 2, key);
      assert.ok(section.includes(`**\`${key}\`** (default `), key);
      if (typeof schema.default === 'number') assert.ok(section.includes(`**\`${key}\`** (default \`${schema.default}\`)`), key);
    }
  });

  for (const doc of DOCS) {
    it(`${doc}: every relative link and path points to a file a clone has`, () => {
      const text = read(doc);
      const missing: string[] = [];
      const headings = new Set([...text.matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1]!)));
      for (const target of links(text)) {
        if (/^[a-z]+:/i.test(target)) continue;
        const [file, anchor] = target.split('#');
        if (!file) {
          if (!headings.has(anchor!)) missing.push(`${target} (no such heading)`);
          continue;
        }
        const resolved = path.normalize(path.join(path.dirname(doc), file));
        if (resolved.startsWith('..') || !fs.existsSync(path.join(root, resolved)) || isIgnored(resolved)) missing.push(target);
      }
      for (const p of codePaths(text)) {
        const resolved = p.startsWith('../') ? path.normalize(path.join(path.dirname(doc), p)) : p;
        if (resolved.startsWith('..') || !fs.existsSync(path.join(root, resolved)) || isIgnored(resolved)) missing.push(`\`${p}\``);
      }
      assert.deepEqual(missing, []);
    });
  }

  it('every `npm run NAME` the documents mention is a script of package.json', () => {
    const scripts = JSON.parse(read('package.json')).scripts;
    const unknown = DOCS.flatMap((doc) => [...read(doc).matchAll(/npm run (?:-s\s+|--silent\s+)?([\w:-]+)/g)]
      .map((m) => m[1]!).filter((name) => !(name in scripts)).map((name) => `${doc}: npm run ${name}`));
    assert.deepEqual(unknown, []);
  });

  it('README.md links only to what the .vsix has (it is the installed extension\'s page), screenshots small', () => {
    const rules = read('.vscodeignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    // vsce's reading of .vscodeignore: later rules win; `!` puts a file back.
    const shipped = (file: string) => rules.reduce((inVsix, rule) =>
      rule.startsWith('!') ? inVsix || minimatch(file, rule.slice(1), { dot: true }) : inVsix && !minimatch(file, rule, { dot: true }), true);
    const readme = read('README.md');
    const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
    assert.ok(images.length >= 2, 'the README shows the product');
    for (const image of images) {
      assert.match(image, /^media\/[\w-]+\.png$/);
      assert.ok(fs.statSync(path.join(root, image)).size < 200_000, `${image} is under 200 KB`);
    }
    const relative = links(readme).filter((l) => !/^[a-z]+:|^#/i.test(l)).map((l) => l.split('#')[0]!);
    assert.deepEqual(relative.filter((file) => !shipped(file)), [], 'left out of the .vsix by .vscodeignore');
  });

  // Without it vsce refuses relative images unless package.json names a public GitHub/GitLab
  // repository to rewrite them to. (VS Code's extension page shows only https images, so until there
  // is such a host it shows the images' alt text; a clone, a repository host and the Markdown preview show them.)
  it('npm run package keeps relative links, so it packages without a public repository', () => {
    assert.match(JSON.parse(read('package.json')).scripts.package, /scripts\/package\.mjs/);
    assert.match(read('scripts/package.mjs'), /'--no-rewrite-relative-links'/);
  });
});
