import assert from 'node:assert/strict';
import { chooseInstruction, PRESETS } from '../../../src/host/instructions';

describe('refactor instruction', () => {
  const simplify = PRESETS[0]!;
  const docs = PRESETS.find((p) => p.label === 'Add documentation')!;
  const table: [string, string, typeof simplify | undefined, string | undefined][] = [
    ['nothing typed: the highlighted preset', '', simplify, simplify.text],
    ['a preset named exactly, whatever is highlighted', 'add documentation', simplify, docs.text],
    ['part of the highlighted preset name', 'simp', simplify, simplify.text],
    ['free text that only fuzzy-matches the highlighted preset', 'Add logging', docs, 'Add logging'],
    ['free text with nothing highlighted', '  use a Map  ', undefined, 'use a Map'],
    ['nothing at all', ' ', undefined, undefined],
  ];
  for (const [name, typed, highlighted, want] of table) {
    it(name, () => assert.equal(chooseInstruction(typed, highlighted)?.text, want));
  }
});
