import { HalyardError } from '../../core/errors.ts';

/** Trading rules of one instrument at the simulated exchange. */
export interface SimInstrument {
  /** Price increment (quote). */
  readonly tick: number;
  /** Quantity increment (base units). */
  readonly lot: number;
  /** Smallest order quantity (base units). */
  readonly minQty: number;
}

/** The instruments the simulated exchange lists unless told otherwise. */
export const DEFAULT_SIM_INSTRUMENTS: Readonly<Record<string, SimInstrument>> = Object.freeze({
  'BTC/USDT:USDT': { tick: 0.1, lot: 0.001, minQty: 0.001 },
  'ETH/USDT:USDT': { tick: 0.01, lot: 0.001, minQty: 0.001 },
  'SOL/USDT:USDT': { tick: 0.001, lot: 0.01, minQty: 0.01 },
});

/** Rules for any other linear USDT/USDC perpetual (`XYZ/USDT:USDT`): fine enough for every listed coin. */
export const GENERIC_SIM_INSTRUMENT: SimInstrument = Object.freeze({ tick: 0.0001, lot: 0.001, minQty: 0.001 });

const LINEAR_PERP = /^[A-Z0-9]{2,20}\/(USDT|USDC):(USDT|USDC)$/;

/** The rules of `symbol`, or a `venue_rejected` error naming the symbol when the venue does not list it. */
export function instrumentOf(instruments: Readonly<Record<string, SimInstrument>>, symbol: string): SimInstrument {
  const known = instruments[symbol];
  if (known) return known;
  if (LINEAR_PERP.test(symbol)) return GENERIC_SIM_INSTRUMENT;
  throw new HalyardError('venue_rejected', `sim: unknown symbol ${symbol} (use a ccxt linear perpetual symbol such as BTC/USDT:USDT)`, { symbol });
}
