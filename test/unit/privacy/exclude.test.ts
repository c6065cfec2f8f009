import assert from 'node:assert/strict';
import { DEFAULT_EXCLUDE_PATTERNS, isExcluded } from '../../../src/privacy/exclude';

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
