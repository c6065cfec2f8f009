// The status bar item's menu: the toggle says which way it goes, and every entry runs a command
// that package.json declares (so the palette has it too).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import '../../helpers/fakeVscode'; // before anything that imports vscode
import { COMMANDS } from '../../../src/host/commandIds';
import { statusMenuEntries } from '../../../src/host/statusMenu';

const declared = new Set((JSON.parse(fs.readFileSync(path.join(__dirname, '../../../package.json'), 'utf8')) as { contributes: { commands: { command: string }[] } })
  .contributes.commands.map((c) => c.command));

describe('status bar menu', () => {
  for (const enabled of [true, false]) {
    it(`with completions ${enabled ? 'on' : 'off'}: the toggle first, then language, Choose Model, Show Log`, () => {
      const entries = statusMenuEntries(enabled);
      assert.deepEqual(entries.map((e) => e.command), [COMMANDS.toggleCompletions, COMMANDS.toggleLanguageCompletions, COMMANDS.chooseModel, COMMANDS.showLog]);
      assert.match(entries[0].label, enabled ? /Turn Inline Completions Off/ : /Turn Inline Completions On/);
      for (const e of entries) assert.ok(declared.has(e.command), `${e.command} is declared in package.json`);
    });
  }
  it('is itself a declared command', () => assert.ok(declared.has(COMMANDS.statusMenu)));
});
