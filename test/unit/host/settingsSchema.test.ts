import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { boundedInteger, ENGINE_SETTINGS, SETTINGS } from '../../../src/settingsSchema';
import { COMMANDS } from '../../../src/host/commandIds';
import { DEFAULT_EXCLUDE_PATTERNS } from '../../../src/privacy/exclude';

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
      assert.deepEqual(entry.default, setting.default);
      assert.equal(entry.minimum, 'minimum' in setting ? setting.minimum : undefined);
      assert.equal(entry.maximum, 'maximum' in setting ? setting.maximum : undefined);
      const type = Array.isArray(setting.default) ? 'array' : typeof setting.default === 'number' ? 'integer' : typeof setting.default;
      assert.equal(entry.type, type);
      assert.ok(entry.scope, 'has a scope');
      assert.ok((entry.markdownDescription ?? entry.description ?? '').length > 20, 'is described');
    });
  }

  it('package.json offers exactly the values the reader accepts', () => {
    for (const setting of Object.values(SETTINGS)) {
      if ('values' in setting) assert.deepEqual((properties[setting.key] as { enum?: unknown }).enum, [...setting.values], setting.key);
    }
  });

  it('flashcode.cloud.exclude defaults to the privacy module\'s patterns, in package.json too', () => {
    assert.deepEqual(properties[SETTINGS.cloudExclude.key]?.default, [...DEFAULT_EXCLUDE_PATTERNS]);
    assert.equal(SETTINGS.cloudExclude.default, DEFAULT_EXCLUDE_PATTERNS);
  });

  it('a workspace can neither turn the cloud on nor point it elsewhere', () => {
    assert.equal(properties[SETTINGS.cloudEnabled.key]?.scope, 'application');
    assert.equal(properties[SETTINGS.cloudBaseUrl.key]?.scope, 'application');
  });

  it('every flashcode.engine.* setting reloads the model when it changes', () => {
    const engineKeys = Object.values(SETTINGS).map((s) => s.key).filter((key) => key.startsWith('flashcode.engine.'));
    assert.deepEqual(ENGINE_SETTINGS.map((s) => s.key).sort(), engineKeys.sort());
  });

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
    assert.deepEqual(commands, Object.values(COMMANDS).sort());
  });

  it('menus name only contributed commands', () => {
    const known = new Set<string>(Object.values(COMMANDS));
    for (const [menu, items] of Object.entries(manifest.contributes.menus as Record<string, { command: string }[]>)) {
      for (const item of items) assert.ok(known.has(item.command), `${menu}: ${item.command}`);
    }
  });
});
