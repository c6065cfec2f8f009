// The power source, probed in the background at a modest interval and cached, so a keystroke only
// reads a field. Until the first probe answers the source is 'unknown' (treated as mains).

import type { PowerSource } from './powerState';

export const DEFAULT_POWER_POLL_MS = 60_000;

export class PowerMonitor {
  private current: PowerSource = 'unknown';
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** Bumped by start and stop: a probe that answers after them is ignored. */
  private epoch = 0;

  constructor(
    private readonly probe: () => Promise<PowerSource>,
    private readonly onChange: (source: PowerSource) => void,
    private readonly intervalMs = DEFAULT_POWER_POLL_MS,
  ) {}

  get source(): PowerSource {
    return this.current;
  }

  get onBattery(): boolean {
    return this.current === 'battery';
  }

  /** Probes now, then every interval until stop(). Calling it while running does nothing. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.epoch++;
    void this.poll(this.epoch);
  }

  /** Stops polling and forgets the source (back to 'unknown', reported if it changed). */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.epoch++;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.set('unknown');
  }

  private async poll(epoch: number): Promise<void> {
    const source = await this.probe().catch((): PowerSource => 'unknown');
    if (epoch !== this.epoch) return;
    this.set(source);
    // The next probe starts only after this one answered, so a slow one never piles up.
    this.timer = setTimeout(() => void this.poll(epoch), this.intervalMs);
    this.timer.unref();
  }

  private set(source: PowerSource): void {
    if (source === this.current) return;
    this.current = source;
    this.onChange(source);
  }
}
