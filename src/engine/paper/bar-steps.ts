import type { FillPlan } from '../execution.ts';
import type { Kernel } from '../kernel.ts';

/**
 * The backtest's steps of the kernel's bar after funding and next-open fills — the exits of open
 * positions (`Kernel.levelsOfBar`), then the resting entries and what follows each fill, then trailing
 * stops and expiries (`BarOrders.restOfBar`) — with every fill sent through `fill` (the venue) before
 * the next step, and the bar checked again after a partial exit.
 */
export async function barSteps(k: Kernel, fill: (plan: FillPlan, ts: number) => Promise<void>): Promise<void> {
  const t = k.bar[0] as number;
  const deferred = async (): Promise<void> => {
    for (const plan of k.deferred.splice(0)) await fill(plan, t);
  };
  if (k.book.positions.length > 0) {
    do {
      k.again = false;
      k.levelsOfBar();
      await deferred();
    } while (k.again);
  }
  if (k.resting.length > 0) {
    k.orders.begin();
    for (let plans = k.orders.next(); plans !== null; plans = k.orders.next()) {
      const ts = k.orders.fillTs;
      for (const plan of plans) await fill(plan, ts);
      do {
        k.again = false;
        k.orders.applied();
        await deferred();
      } while (k.again);
    }
  }
  k.orders.end();
}
