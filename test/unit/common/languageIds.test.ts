import assert from 'node:assert/strict';
import { languageIdForFile, languageIdForName } from '../../../src/common/languageIds';

describe('language ids', () => {
  it('maps names people write to VS Code ids, and passes ids through', () => {
    const cases: Array<[string, string]> = [
      ['typescript', 'typescript'], ['TS', 'typescript'], ['py', 'python'], ['Python', 'python'], ['javascript', 'javascript'],
      ['c++', 'cpp'], ['golang', 'go'], ['rust', 'rust'], ['Kotlin', 'kotlin'],
    ];
    for (const [name, id] of cases) assert.equal(languageIdForName(name), id, name);
  });

  it('maps file extensions, and gives nothing for none', () => {
    const cases: Array<[string, string]> = [
      ['src/a.ts', 'typescript'], ['App.TSX', 'typescriptreact'], ['/x/y.py', 'python'], ['C:\\w\\main.cpp', 'cpp'],
      ['lib.mjs', 'javascript'], ['Makefile', ''], ['.env', ''], ['a.unknown', ''],
    ];
    for (const [file, id] of cases) assert.equal(languageIdForFile(file), id, file);
  });
});
