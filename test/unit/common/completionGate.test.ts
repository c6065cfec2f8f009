import assert from 'node:assert/strict';
import { completionGate, DEFAULT_LANGUAGES, isLanguageEnabled, languageMap, ownEntries, type Gate, type GateInput } from '../../../src/common/completionGate';

const base: GateInput = { enabled: true, languages: DEFAULT_LANGUAGES, pauseOnBattery: true, languageId: 'typescript', onBattery: false, explicit: false };

describe('completionGate', () => {
  const cases: Array<{ name: string; input: Partial<GateInput>; gate: Gate }> = [
    { name: 'on by default for code', input: {}, gate: { kind: 'on', batterySaving: false } },
    { name: 'off globally', input: { enabled: false }, gate: { kind: 'off' } },
    { name: 'off globally wins over the language', input: { enabled: false, languageId: 'markdown' }, gate: { kind: 'off' } },
    { name: 'markdown is off by default', input: { languageId: 'markdown' }, gate: { kind: 'off-language', languageId: 'markdown' } },
    { name: 'plaintext is off by default', input: { languageId: 'plaintext' }, gate: { kind: 'off-language', languageId: 'plaintext' } },
    { name: 'commit messages are off by default', input: { languageId: 'scminput' }, gate: { kind: 'off-language', languageId: 'scminput' } },
    { name: 'an explicit request in an off language gets nothing', input: { languageId: 'markdown', explicit: true }, gate: { kind: 'off-language', languageId: 'markdown' } },
    { name: 'no active editor: no language to check', input: { languageId: undefined }, gate: { kind: 'on', batterySaving: false } },
    { name: 'paused on battery', input: { onBattery: true }, gate: { kind: 'paused', reason: 'battery' } },
    { name: 'an explicit request on battery runs, without speculative work', input: { onBattery: true, explicit: true }, gate: { kind: 'on', batterySaving: true } },
    { name: 'pauseOnBattery off: battery does not matter', input: { onBattery: true, pauseOnBattery: false }, gate: { kind: 'on', batterySaving: false } },
    { name: 'an off language says so rather than paused', input: { onBattery: true, languageId: 'markdown' }, gate: { kind: 'off-language', languageId: 'markdown' } },
    { name: '"*": false turns unnamed languages off', input: { languages: { '*': false, python: true } }, gate: { kind: 'off-language', languageId: 'typescript' } },
    { name: '"*": false leaves named languages on', input: { languages: { '*': false, python: true }, languageId: 'python' }, gate: { kind: 'on', batterySaving: false } },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(completionGate({ ...base, ...c.input }), c.gate));
});

describe('isLanguageEnabled', () => {
  const cases: Array<{ languages: Record<string, boolean>; languageId: string; enabled: boolean }> = [
    { languages: { '*': true, markdown: false }, languageId: 'markdown', enabled: false },
    { languages: { '*': true, markdown: false }, languageId: 'go', enabled: true },
    { languages: { '*': false, go: true }, languageId: 'go', enabled: true },
    { languages: { '*': false }, languageId: 'go', enabled: false },
    { languages: {}, languageId: 'go', enabled: true },
    { languages: { markdown: true }, languageId: 'constructor', enabled: true },
    { languages: { '*': false }, languageId: 'toString', enabled: false },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.languages)} → ${c.languageId}: ${c.enabled}`, () => assert.equal(isLanguageEnabled(c.languages, c.languageId), c.enabled));
  }
});

describe('reading the language map', () => {
  it('keeps boolean entries only', () => assert.deepEqual(languageMap({ '*': true, go: false, rust: 'no', c: 1 }), { '*': true, go: false }));
  for (const value of [undefined, null, 'markdown', ['markdown'], 3]) {
    it(`${JSON.stringify(value)} reads as the default map`, () => assert.deepEqual(languageMap(value), DEFAULT_LANGUAGES));
  }
  it('one level of settings that is not an object has no entries', () => {
    assert.deepEqual(ownEntries(undefined), {});
    assert.deepEqual(ownEntries(['go']), {});
    assert.deepEqual(ownEntries({ go: true, x: 'y' }), { go: true });
  });
});
