import type { Position } from '../core/ledger.ts';
import type { TradeExit } from '../core/results.ts';
import { floorQty, roundPrice } from '../core/round.ts';
import type { TakeProfitTarget, TrailingStop } from '../core/signals.ts';

/** The exits an entry asked for beyond one stop-loss and one take-profit: a take-profit ladder, a trailing stop. */
export interface ExitSpec {
  /** Nearest the entry first, prices already on the tick. */
  readonly targets: readonly TakeProfitTarget[] | null;
  readonly trailing: TrailingStop | null;
}

/** One pending target of a ladder: its price (quote) and the quantity it closes (base units; Infinity: the rest). */
export interface LadderTarget {
  readonly price: number;
  readonly qty: number;
}

/** A trailing stop's state: `best` is the best price since activation (highest for a long, lowest for a short). */
export interface TrailState {
  readonly spec: TrailingStop;
  active: boolean;
  best: number;
  /** The stop level it last set (quote), NaN before activation. */
  level: number;
  /** Filled inside the bar being processed: `freshBest` (what is known to come after the fill) replaces the bar's extreme. */
  fresh: boolean;
  freshBest: number;
}

/** What the engine keeps per open position beyond the ledger: its ladder, its trailing stop, its partial exits. */
export interface ExitPlan {
  position: Position;
  targets: LadderTarget[];
  trail: TrailState | null;
  readonly partials: TradeExit[];
}

/** The JSON form of a plan (a paper run stores it with its state). */
export interface ExitPlanJson {
  readonly id: string;
  readonly targets: readonly { readonly price: number; readonly qty: number | null }[];
  readonly trail: Omit<TrailState, 'level'> & { readonly level: number | null } | null;
  readonly partials: readonly TradeExit[];
}

/**
 * Ladders, trailing stops and partial exits of open positions, by position id. The hot loop never looks
 * here: a position's `takeProfit` is its nearest pending target and its `stopLoss` the stop in force, so
 * the plain range test still skips the candles that touch nothing; this book is read only on a hit and
 * once per bar to ratchet trailing stops.
 */
export class ExitPlans {
  readonly byId = new Map<string, ExitPlan>();

  constructor(
    private readonly tick: number,
    private readonly lot: number,
  ) {}

  private plan(p: Position): ExitPlan {
    let plan = this.byId.get(p.id);
    if (plan === undefined) {
      plan = { position: p, targets: [], trail: null, partials: [] };
      this.byId.set(p.id, plan);
    }
    return plan;
  }

  /** The plan of position `p`, if it has one (its id is read only when some position has a plan). */
  get(p: Position): ExitPlan | undefined {
    return this.byId.size === 0 ? undefined : this.byId.get(p.id);
  }

  /**
   * Attaches an entry's exits to the position it opened or added to, filled at `price`: a ladder's
   * quantities are fractions of the position's quantity now (rounded down to the lot; a ladder that sums
   * to 1 closes the rest at its last target), replacing an earlier ladder; a trailing stop starts at the
   * fill price and, without an activation price, sets the stop at once.
   */
  attach(p: Position, spec: ExitSpec, price: number): void {
    const plan = this.plan(p);
    if (spec.targets !== null) {
      const all = spec.targets.reduce((a, t) => a + t.fraction, 0) >= 1 - 1e-9;
      const targets: LadderTarget[] = [];
      spec.targets.forEach((t, k) => {
        const rest = all && k === spec.targets!.length - 1;
        const qty = rest ? Number.POSITIVE_INFINITY : floorQty(p.qty * t.fraction, this.lot);
        if (qty > 0) targets.push({ price: t.price, qty });
      });
      plan.targets = targets;
      p.takeProfit = targets[0]?.price ?? null;
    }
    if (spec.trailing !== null) {
      const s = spec.trailing;
      plan.trail = { spec: s, active: s.activation === null, best: price, level: Number.NaN, fresh: false, freshBest: price };
      if (plan.trail.active) this.setLevel(p, plan.trail);
    }
  }

  /** A take-profit of the ladder filled: the next target becomes the position's take-profit. */
  targetDone(p: Position, plan: ExitPlan): void {
    plan.targets.shift();
    p.takeProfit = plan.targets[0]?.price ?? null;
  }

  /** Records a partial exit of `p`. */
  partial(p: Position, exit: TradeExit): void {
    this.plan(p).partials.push(exit);
  }

  /** Position `p` closed: its partial exits (undefined when it had none), and the plan is dropped. */
  closed(p: Position): readonly TradeExit[] | undefined {
    if (this.byId.size === 0) return undefined;
    const plan = this.byId.get(p.id);
    if (plan === undefined) return undefined;
    this.byId.delete(p.id);
    return plan.partials.length > 0 ? plan.partials : undefined;
  }

  /** True when `p`'s stop in force is the one its trailing stop set (its exit is then a `trailing_stop`). */
  trailing(p: Position): boolean {
    const trail = this.get(p)?.trail;
    return trail !== undefined && trail !== null && trail.level === p.stopLoss;
  }

  /**
   * End of a bar: each trailing stop takes the bar's extreme in the trader's favour (`high` for a long,
   * `low` for a short; for a position filled inside the bar only what is known to come after the fill),
   * activates when that reaches its activation price, and ratchets the stop. Run after the bar's exits,
   * so a bar's high never moves the stop that bar is checked against.
   */
  ratchet(high: number, low: number): void {
    for (const plan of this.byId.values()) {
      const trail = plan.trail;
      if (trail === null) continue;
      const p = plan.position;
      const long = p.side === 'long';
      const x = trail.fresh ? trail.freshBest : long ? high : low;
      trail.fresh = false;
      const better = long ? x > trail.best : x < trail.best;
      if (!trail.active) {
        const act = trail.spec.activation as number;
        if (!(long ? x >= act : x <= act)) continue;
        trail.active = true;
        trail.best = x;
      } else if (better) trail.best = x;
      this.setLevel(p, trail);
    }
  }

  /** Sets the stop from the best price when that is tighter than the stop in force. */
  private setLevel(p: Position, trail: TrailState): void {
    const s = trail.spec;
    const long = p.side === 'long';
    const gap = s.percent !== null ? (trail.best * s.percent) / 100 : (s.distance as number);
    const level = roundPrice(long ? trail.best - gap : trail.best + gap, this.tick);
    const sl = p.stopLoss;
    if (sl === null || (long ? level > sl : level < sl)) {
      p.stopLoss = level;
      trail.level = level;
    }
  }

  /** Plans of open positions as JSON (Infinity and NaN as null). */
  toJson(): ExitPlanJson[] {
    return [...this.byId.values()].map((pl) => ({
      id: pl.position.id,
      targets: pl.targets.map((t) => ({ price: t.price, qty: Number.isFinite(t.qty) ? t.qty : null })),
      trail: pl.trail === null ? null : { ...pl.trail, level: Number.isNaN(pl.trail.level) ? null : pl.trail.level },
      partials: pl.partials,
    }));
  }

  /** Puts plans back onto the restored open positions (plans of positions no longer open are dropped). */
  restore(plans: readonly ExitPlanJson[], open: readonly Position[]): void {
    for (const j of plans) {
      const p = open.find((x) => x.id === j.id);
      if (!p) continue;
      this.byId.set(p.id, {
        position: p,
        targets: j.targets.map((t) => ({ price: t.price, qty: t.qty ?? Number.POSITIVE_INFINITY })),
        trail: j.trail === null ? null : { ...j.trail, level: j.trail.level ?? Number.NaN },
        partials: [...j.partials],
      });
    }
  }
}
