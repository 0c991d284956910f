import { errorMessage } from '../core/errors.ts';
import type { DispatchLog } from './intent-worker.ts';

/**
 * Settles the targets whose simulated exchange took a signal's orders inside the signal's own transaction:
 * soon after (the batching wait, once per burst) each one's `settle` runs, one target after another; a
 * target added while they run is settled in the same run.
 */
export class InlineSettler {
  private readonly due = new Map<string, { readonly userId: number; readonly targetKey: string }>();
  private timer: NodeJS.Timeout | null = null;
  private run: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly settle: (userId: number, targetKey: string) => Promise<void>,
    private readonly delayMs: number,
    private readonly log?: DispatchLog,
  ) {}

  /** True when no target waits and no run is under way. */
  get idle(): boolean {
    return this.due.size === 0 && !this.run;
  }

  /** Asks for `targetKey` of `userId` to be settled soon. */
  add(userId: number, targetKey: string): void {
    if (this.stopped) return;
    this.due.set(`${userId}|${targetKey}`, { userId, targetKey });
    if (this.timer || this.run) return;
    this.timer = setTimeout(() => this.flush(), this.delayMs);
  }

  /** Settles the waiting targets now (or returns the run under way). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.run) return this.run;
    this.run = (async () => {
      while (this.due.size > 0 && !this.stopped) {
        const due = [...this.due.values()];
        this.due.clear();
        for (const t of due) {
          try {
            await this.settle(t.userId, t.targetKey);
          } catch (e) {
            this.log?.warn({ target: t.targetKey, err: errorMessage(e) }, 'settling orders failed');
          }
        }
      }
    })().finally(() => {
      this.run = null;
    });
    return this.run;
  }

  /** Stops taking targets and waits for the run in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.run;
  }
}
