import { errorMessage } from '../core/errors.ts';

/** Where a failed pass is reported (a pino logger fits). */
interface PassLog {
  warn(obj: object, msg: string): void;
}

/**
 * The schedule of a sender's delivery passes (the engine-event outbox's and the alerts'): one pass at a
 * time, in call order; a pass every `intervalMs` on a timer that does not keep the process alive; wake-ups
 * folded into one pass; and a stop that waits for the pass in flight.
 */
export class PassLoop<R> {
  private tail: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private wakeQueued = false;
  private halted = false;

  constructor(
    /** A full pass, run by the timer and by wake-ups. */
    private readonly fullPass: () => Promise<R>,
    /** What the passes deliver, for the log line of a failed pass (`alerts`, `engine events`). */
    private readonly label: string,
    private readonly log?: PassLog,
  ) {}

  /** True after `stop()`: passes end after their current delivery. */
  get stopped(): boolean {
    return this.halted;
  }

  /** Runs `pass` after the pass in flight, if any. Resolves with what it did; its errors reject. */
  run<T>(pass: () => Promise<T>): Promise<T> {
    const p = this.tail.then(pass);
    this.tail = p.catch(() => undefined);
    return p;
  }

  /** Called by a full pass as it begins: a wake-up from then on asks for one more pass. */
  startedFullPass(): void {
    this.wakeQueued = false;
  }

  /** Runs a full pass every `intervalMs`. */
  start(intervalMs: number): void {
    if (this.halted || this.timer) return;
    const tick = (): void => {
      this.timer = setTimeout(() => {
        void this.run(this.fullPass)
          .catch((e: unknown) => this.log?.warn({ err: errorMessage(e) }, `${this.label} pass failed`))
          .finally(() => {
            if (!this.halted) tick();
          });
      }, intervalMs);
      this.timer.unref();
    };
    tick();
  }

  /** Asks for a full pass soon (after rows were enqueued); wake-ups during a pass give one more pass after it. */
  wake(): void {
    if (this.halted || this.wakeQueued) return;
    this.wakeQueued = true;
    void this.run(this.fullPass).catch((e: unknown) => this.log?.warn({ err: errorMessage(e) }, `${this.label} pass failed`));
  }

  /** Stops the timer and waits for the pass in flight. */
  async stop(): Promise<void> {
    this.halted = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.tail;
  }
}
