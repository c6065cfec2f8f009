import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readPowerSource, type CommandRunner, type PowerSource } from '../../../src/power/powerState';

/** A fake /sys/class/power_supply: supply name → its files. */
type SysTree = Record<string, Record<string, string>>;

const AC_ONLINE = { type: 'Mains\n', online: '1\n' };
const AC_OFFLINE = { type: 'Mains\n', online: '0\n' };
const battery = (status: string) => ({ type: 'Battery\n', status: `${status}\n`, capacity: '80\n' });
const MOUSE = { type: 'Battery\n', status: 'Discharging\n', scope: 'Device\n' };

describe('power source on Linux (/sys/class/power_supply)', () => {
  let root: string;
  beforeEach(() => { root = fs.mkdtempSync(path.join(os.tmpdir(), 'flashcode-power-')); });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const cases: Array<{ name: string; tree: SysTree; expected: PowerSource }> = [
    { name: 'laptop on its charger', tree: { AC: AC_ONLINE, BAT0: battery('Charging') }, expected: 'mains' },
    { name: 'laptop on battery', tree: { AC: AC_OFFLINE, BAT0: battery('Discharging') }, expected: 'battery' },
    { name: 'just plugged in: the adapter wins over a battery still reading discharging', tree: { AC: AC_ONLINE, BAT0: battery('Discharging') }, expected: 'mains' },
    { name: 'full battery on a USB-C charger that is not "Mains"', tree: { 'ucsi-source-psy-USBC000:001': { type: 'USB\n', online: '1\n' }, BAT0: battery('Full') }, expected: 'mains' },
    { name: 'charge threshold reached ("Not charging")', tree: { ADP1: AC_ONLINE, BAT0: battery('Not charging') }, expected: 'mains' },
    { name: 'two batteries, the second discharging', tree: { AC: AC_OFFLINE, BAT0: battery('Unknown'), BAT1: battery('Discharging') }, expected: 'battery' },
    { name: 'laptop on battery with a wireless mouse', tree: { AC: AC_OFFLINE, BAT0: battery('Discharging'), hidpp_battery_0: MOUSE }, expected: 'battery' },
    { name: 'desktop with a wireless mouse: a peripheral battery says nothing', tree: { hidpp_battery_0: MOUSE }, expected: 'unknown' },
    { name: 'desktop: no supplies', tree: {}, expected: 'unknown' },
    { name: 'a supply with unreadable files', tree: { weird: {}, BAT0: battery('Discharging') }, expected: 'battery' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      for (const [name, files] of Object.entries(c.tree)) {
        fs.mkdirSync(path.join(root, name));
        for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(root, name, file), text);
      }
      assert.equal(await readPowerSource({ platform: 'linux', sysRoot: root, run: neverRun }), c.expected);
    });
  }

  it('no /sys/class/power_supply at all (a container): unknown', async () => {
    assert.equal(await readPowerSource({ platform: 'linux', sysRoot: path.join(root, 'missing'), run: neverRun }), 'unknown');
  });
});

describe('power source on macOS (pmset -g batt)', () => {
  const cases: Array<{ name: string; stdout: string; expected: PowerSource }> = [
    { name: 'on battery', stdout: "Now drawing from 'Battery Power'\n -InternalBattery-0 (id=4653155)\t85%; discharging; 5:12 remaining present: true\n", expected: 'battery' },
    { name: 'on its charger', stdout: "Now drawing from 'AC Power'\n -InternalBattery-0 (id=4653155)\t100%; charged; 0:00 remaining present: true\n", expected: 'mains' },
    { name: 'a Mac without a battery', stdout: "Now drawing from 'AC Power'\n", expected: 'mains' },
    { name: 'on a UPS', stdout: "Now drawing from 'UPS Power'\n", expected: 'mains' },
    { name: 'output it does not know', stdout: 'pmset: unexpected\n', expected: 'unknown' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const calls: string[] = [];
      const run: CommandRunner = async (file, args) => { calls.push([file, ...args].join(' ')); return c.stdout; };
      assert.equal(await readPowerSource({ platform: 'darwin', run }), c.expected);
      assert.deepEqual(calls, ['pmset -g batt']);
    });
  }
  it('pmset failing: unknown', async () => {
    assert.equal(await readPowerSource({ platform: 'darwin', run: failing }), 'unknown');
  });
});

describe('power source on Windows (Win32_Battery.BatteryStatus)', () => {
  const cases: Array<{ name: string; powershell?: string; wmic?: string; expected: PowerSource }> = [
    { name: 'discharging (1)', powershell: '1\r\n', expected: 'battery' },
    { name: 'on AC (2)', powershell: '2\r\n', expected: 'mains' },
    { name: 'charging (6)', powershell: '6\r\n', expected: 'mains' },
    { name: 'low and not charging (4)', powershell: '4\r\n', expected: 'battery' },
    { name: 'two batteries, one discharging', powershell: '2\r\n1\r\n', expected: 'battery' },
    { name: 'no battery (a desktop): nothing printed', powershell: '', expected: 'unknown' },
    { name: 'PowerShell missing: WMIC, discharging', wmic: 'BatteryStatus  \r\r\n1              \r\r\n\r\r\n', expected: 'battery' },
    { name: 'PowerShell missing: WMIC, fully charged (3)', wmic: 'BatteryStatus  \r\r\n3              \r\r\n\r\r\n', expected: 'mains' },
    { name: 'neither runs', expected: 'unknown' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const run: CommandRunner = async (file) => {
        const stdout = file === 'powershell.exe' ? c.powershell : file === 'wmic' ? c.wmic : undefined;
        if (stdout === undefined) throw new Error(`spawn ${file} ENOENT`);
        return stdout;
      };
      assert.equal(await readPowerSource({ platform: 'win32', run }), c.expected);
    });
  }
});

describe('power source elsewhere', () => {
  it('another OS: unknown, nothing run', async () => {
    assert.equal(await readPowerSource({ platform: 'freebsd', run: neverRun }), 'unknown');
  });
});

async function neverRun(file: string): Promise<string> {
  throw new assert.AssertionError({ message: `ran ${file}` });
}

async function failing(file: string): Promise<string> {
  throw new Error(`spawn ${file} ENOENT`);
}
