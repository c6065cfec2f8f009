// Whether the computer runs on battery, from what the OS already exposes (no dependencies):
// Linux /sys/class/power_supply, macOS `pmset -g batt`, Windows Win32_Battery. Every probe is
// asynchronous and never throws: whatever cannot be read is 'unknown', which callers treat as mains.

import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export type PowerSource = 'mains' | 'battery' | 'unknown';

/** Runs a program and resolves with its stdout; rejects when it cannot be run or fails. */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<string>;

export interface ProbeOptions {
  platform?: NodeJS.Platform;
  /** Linux: the directory of power supplies. */
  sysRoot?: string;
  run?: CommandRunner;
}

export const LINUX_SYS_ROOT = '/sys/class/power_supply';
const COMMAND_TIMEOUT_MS = 10_000;

export async function readPowerSource(options: ProbeOptions = {}): Promise<PowerSource> {
  const run = options.run ?? runCommand;
  try {
    switch (options.platform ?? process.platform) {
      case 'linux': return linuxPowerSource(await readLinuxSupplies(options.sysRoot ?? LINUX_SYS_ROOT));
      case 'darwin': return pmsetPowerSource(await run('pmset', ['-g', 'batt']));
      case 'win32': return win32PowerSource(await windowsBatteryStatus(run));
      default: return 'unknown';
    }
  } catch {
    return 'unknown';
  }
}

/** One entry of /sys/class/power_supply: its `type`, `online`, `status` and `scope` files, trimmed. */
export interface LinuxSupply {
  type?: string;
  online?: string;
  status?: string;
  /** "Device" for a peripheral's battery (a wireless mouse), which says nothing about this computer. */
  scope?: string;
}

/** An online AC adapter means mains, even while a battery reads discharging (it does for a moment
 *  after plugging in); else any discharging battery of this computer means battery. A battery that
 *  is charging, full or "Not charging" sits on a charger (USB-C ones are not always "Mains"). */
export function linuxPowerSource(supplies: readonly LinuxSupply[]): PowerSource {
  if (supplies.some((s) => s.type === 'Mains' && s.online === '1')) return 'mains';
  const batteries = supplies.filter((s) => s.type === 'Battery' && s.scope !== 'Device');
  if (batteries.some((s) => s.status === 'Discharging')) return 'battery';
  return batteries.length > 0 ? 'mains' : 'unknown';
}

export async function readLinuxSupplies(sysRoot: string): Promise<LinuxSupply[]> {
  const names = await readdir(sysRoot);
  return Promise.all(names.map(async (name) => {
    const read = (file: string) => readFile(path.join(sysRoot, name, file), 'utf8').then((s) => s.trim(), () => undefined);
    const [type, online, status, scope] = await Promise.all([read('type'), read('online'), read('status'), read('scope')]);
    return { type, online, status, scope };
  }));
}

/** `pmset -g batt` starts with "Now drawing from 'AC Power'" (or 'Battery Power', 'UPS Power'). */
export function pmsetPowerSource(stdout: string): PowerSource {
  if (stdout.includes("'Battery Power'")) return 'battery';
  return /'(AC|UPS) Power'/.test(stdout) ? 'mains' : 'unknown';
}

/** Win32_Battery.BatteryStatus, one number per battery: 1 discharging, 4 low and 5 critical (both
 *  not charging); the others are on AC (charging, full, or "unknown"). No battery: nothing. */
export function win32PowerSource(stdout: string): PowerSource {
  const statuses = stdout.split(/\r?\n/).map((line) => line.trim()).filter((line) => /^\d+$/.test(line)).map(Number);
  if (statuses.length === 0) return 'unknown';
  return statuses.some((s) => s === 1 || s === 4 || s === 5) ? 'battery' : 'mains';
}

/** PowerShell first (WMIC is gone from recent Windows 11), WMIC where PowerShell fails. */
async function windowsBatteryStatus(run: CommandRunner): Promise<string> {
  try {
    return await run('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', '(Get-CimInstance -ClassName Win32_Battery).BatteryStatus']);
  } catch {
    return run('wmic', ['path', 'Win32_Battery', 'get', 'BatteryStatus']);
  }
}

function runCommand(file: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: COMMAND_TIMEOUT_MS, windowsHide: true, encoding: 'utf8' }, (error, stdout) => {
      if (error) reject(error);
      else resolve(stdout);
    });
  });
}
