/** Deterministic id generator: `prefix-000001`, … (no clock, no randomness, so runs repeat exactly). */
export class IdSequence {
  private n = 0;

  constructor(private readonly prefix: string) {}

  /** The next id. */
  next(): string {
    this.n++;
    return `${this.prefix}-${String(this.n).padStart(6, '0')}`;
  }

  /** How many ids were issued (for restoring state). */
  get issued(): number {
    return this.n;
  }

  /** Continue after `n` issued ids (restoring persisted state). */
  resume(n: number): void {
    this.n = n;
  }
}
