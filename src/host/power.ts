// The battery pause's view of the OS: polls the power source in the background only while
// flashcode.completion.pauseOnBattery is on, and says when it changes.

import * as vscode from 'vscode';
import { PowerMonitor } from '../power/powerMonitor';
import { readPowerSource } from '../power/powerState';
import type { OutputLog } from './output';

export class PowerWatch implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly monitor: PowerMonitor;
  private disposed = false;

  constructor(log: OutputLog) {
    this.monitor = new PowerMonitor(() => readPowerSource(), (source) => {
      if (this.disposed) return;
      log.info(`power source: ${source}`);
      this.changed.fire();
    });
  }

  get onBattery(): boolean {
    return this.monitor.onBattery;
  }

  /** Polls while `pauseOnBattery` is on; off, it stops and counts as mains. */
  follow(pauseOnBattery: boolean): void {
    if (pauseOnBattery) this.monitor.start();
    else this.monitor.stop();
  }

  dispose(): void {
    this.disposed = true;
    this.monitor.stop();
    this.changed.dispose();
  }
}
