import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { boundedInteger, SETTINGS } from '../../../src/common/settingsSchema';

interface SchemaEntry {
  type: string;
  default: unknown;
  minimum?: number;
  maximum?: number;
  scope?: string;
  description?: string;
  markdownDescription?: string;
}

const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../package.json'), 'utf8'));
const properties: Record<string, SchemaEntry> = manifest.contributes.configuration.properties;

describe('settings', () => {
  it('package.json declares exactly the settings the reader knows', () => {
    assert.deepEqual(Object.keys(properties).sort(), Object.values(SETTINGS).map((s) => s.key).sort());
  });

  for (const setting of Object.values(SETTINGS)) {
    it(`${setting.key}: package.json schema matches the reader's default and bounds`, () => {
      const entry = properties[setting.key];
      assert.ok(entry, 'declared');
      assert.equal(entry.default, setting.default);
      assert.equal(entry.minimum, 'minimum' in setting ? setting.minimum : undefined);
      assert.equal(entry.maximum, 'maximum' in setting ? setting.maximum : undefined);
      assert.equal(entry.type, typeof setting.default === 'number' ? 'integer' : typeof setting.default);
      assert.ok(entry.scope, 'has a scope');
      assert.ok((entry.markdownDescription ?? entry.description ?? '').length > 20, 'is described');
    });
  }

  it('reads numbers within bounds, and the default for anything else', () => {
    const spec = SETTINGS.maxTokens;
    assert.equal(boundedInteger(64, spec), 64);
    assert.equal(boundedInteger(0, spec), spec.minimum);
    assert.equal(boundedInteger(1e9, spec), spec.maximum);
    assert.equal(boundedInteger(12.6, spec), 13);
    assert.equal(boundedInteger('64', spec), spec.default);
    assert.equal(boundedInteger(Number.NaN, spec), spec.default);
    assert.equal(boundedInteger(undefined, spec), spec.default);
  });

  it('package.json contributes the commands the extension registers', () => {
    const commands = manifest.contributes.commands.map((c: { command: string }) => c.command).sort();
    assert.deepEqual(commands, ['flashcode.showLog', 'flashcode.toggleCompletions']);
  });
});
