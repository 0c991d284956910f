/** Runs tasks one at a time per key (e.g. per recorder), in arrival order; different keys run freely. */
export class KeyedLock {
  private readonly tails = new Map<string | number, Promise<unknown>>();

  /** Runs `task` after every earlier task of `key` has settled. */
  run<T>(key: string | number, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(task, task);
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
