/**
 * The one place prices and quantities are rounded to an instrument's tick and lot. Numbers stay float64
 * (speed in the hot path); rounding happens at order creation and at fills. The small epsilon keeps
 * values such as 0.30000000000000004 from falling a whole step.
 */
const EPS = 1e-9;

function decimals(step: number): number {
  if (!(step > 0)) return 0;
  const s = step.toString();
  const e = s.indexOf('e-');
  if (e >= 0) return Number(s.slice(e + 2));
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

// The scale (10^decimals) of the last step seen: fills use one tick and one lot, so this avoids any
// string work on the hot path.
let lastStep = Number.NaN;
let lastScale = 1;

/** Removes binary noise from a multiple of `step` (0.30000000000000004 → 0.3) with arithmetic only. */
function clean(x: number, step: number): number {
  if (step !== lastStep) {
    lastStep = step;
    lastScale = 10 ** Math.min(15, decimals(step));
  }
  return Math.round(x * lastScale) / lastScale;
}

/** Rounds a price to the nearest tick (quote currency). A tick of 0 leaves the price as is. */
export function roundPrice(price: number, tick: number): number {
  if (!(tick > 0)) return price;
  return clean(Math.round(price / tick) * tick, tick);
}

/** Rounds a quantity down to a whole number of lots (base units). A lot of 0 leaves it as is. */
export function floorQty(qty: number, lot: number): number {
  if (!(lot > 0)) return qty;
  return clean(Math.floor(qty / lot + EPS) * lot, lot);
}

/**
 * Removes binary noise from a computed quantity or price when its step is not known (12 significant
 * digits: 0.3 - 0.2 = 0.09999999999999998 → 0.1), so a venue that truncates to its precision loses no lot.
 */
export function denoise(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(12)) : x;
}
