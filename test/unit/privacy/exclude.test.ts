import assert from 'node:assert/strict';
import { DEFAULT_EXCLUDE_PATTERNS, isExcluded, unusablePatterns } from '../../../src/privacy/exclude';
import { screenExcluded } from '../../../src/commands/screen';

const cases: [fileName: string, excluded: boolean][] = [
  ['.env', true],
  ['.env.local', true],
  ['config/.env.production', true],
  ['deploy/certs/server.pem', true],
  ['server.key', true],
  ['home/me/.ssh/id_rsa', true],
  ['id_rsa.pub', true],
  ['secrets/token.txt', true],
  ['app/secrets/nested/deep/db.json', true],
  ['C:\\work\\proj\\.env', true],
  ['src\\secrets\\api.ts', true],
  ['./.env', true],
  ['/abs/path/secrets/x.ts', true],
  ['.ENV', true],
  // Folders named like a secret: everything inside them (a pattern without a slash names files or folders).
  ['.env.d/app.conf', true],
  ['config/.env/production.json', true],
  ['deploy/tls.key/cert.txt', true],
  ['src/env.ts', false],
  ['src/environment.ts', false],
  ['keys.ts', false],
  ['src/monkey.keyboard.ts', false],
  ['docs/secrets.md', false],
  ['src/secretsManager/index.ts', false],
  ['README.md', false],
  ['untitled:Untitled-1', false],
];

describe('isExcluded with the default patterns', () => {
  for (const [fileName, want] of cases) {
    it(`${want ? 'excludes' : 'keeps'} ${fileName}`, () => assert.equal(isExcluded(fileName, DEFAULT_EXCLUDE_PATTERNS), want));
  }
});

describe('isExcluded with user patterns', () => {
  it('matches a pattern with a slash against the whole relative path only', () => {
    assert.equal(isExcluded('internal/a.ts', ['internal/**']), true);
    assert.equal(isExcluded('src/internal/a.ts', ['internal/**']), false);
  });
  it('ignores empty patterns and excludes nothing with no patterns', () => {
    assert.equal(isExcluded('.env', ['', '  ']), false);
    assert.equal(isExcluded('.env', []), false);
  });
  it('takes Windows separators in a pattern too', () => {
    assert.equal(isExcluded('a/private/b.ts', ['**\\private\\**']), true);
  });
});

describe('a pattern minimatch cannot use', () => {
  const bad = `a${'bcdefghijklmnopqrst'.split('').map((c) => `{,${c}}`).join('')}`;
  it('fails closed: every file counts as excluded, and it never throws', () => {
    assert.equal(isExcluded('src/app.ts', [...DEFAULT_EXCLUDE_PATTERNS, bad]), true);
    assert.deepEqual(unusablePatterns(['.env*', bad]), [{ pattern: bad, reason: 'pattern is too long' }]);
  });
  it('a task still runs: the context is left out, with one notice naming the pattern', () => {
    const input = {
      kind: 'explain' as const,
      target: { code: 'x = 1', languageId: 'python', fileName: 'src/a.py', start: 0, end: 5 },
      context: [{ label: 'open file b.py', fileName: 'src/b.py', text: 'y = 2' }],
    };
    const s = screenExcluded(input, [...DEFAULT_EXCLUDE_PATTERNS, bad]);
    assert.equal(s.targetExcluded, true);
    assert.deepEqual(s.input.context, []);
    assert.equal(s.notices.filter((n) => n.includes('cannot be used')).length, 1);
    assert.match(s.notices[0], /^flashcode\.cloud\.exclude has a pattern that cannot be used \(a\{,b\}.*…: pattern is too long\) — fix or remove it; until then every file counts as excluded/);
  });
  it('the other patterns keep their meaning when all are usable', () => {
    assert.equal(isExcluded('src/app.ts', DEFAULT_EXCLUDE_PATTERNS), false);
  });
});
