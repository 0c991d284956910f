import { HalyardError } from '../core/errors.ts';
import type { PlotSeries } from './result.ts';

/** At most this many plotted series per run (each is a line on the report's price chart). */
export const MAX_PLOTS = 16;

const COLOR = /^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20}|rgba?\(\s*[\d.]+\s*,\s*[\d.]+\s*,\s*[\d.]+\s*(,\s*[\d.]+\s*)?\))$/;

/**
 * Where a backtest records what the strategy plots: one Float64Array per series, as long as the run's
 * recorded candles and allocated once (NaN where nothing was plotted). Numbers are written by `ctx.plot`
 * at the candle being decided; indicators declared for plotting are read by the loop after each candle.
 */
export class PlotRecorder {
  readonly series: PlotSeries[] = [];
  private readonly byName = new Map<string, PlotSeries>();
  private readonly indicators: { readonly ind: { readonly value: number }; readonly values: Float64Array }[] = [];
  private readonly indicatorNames = new Set<string>();

  /**
   * @param length candles recorded (the run after its warm-up)
   * @param offset index of the first recorded candle in the kernel's candles (the warm-up length)
   */
  constructor(
    readonly length: number,
    readonly offset: number,
  ) {}

  /** True when indicators were declared: the loop then calls `record` on each candle. */
  get hasIndicators(): boolean {
    return this.indicators.length > 0;
  }

  private declare(name: string, color: string | undefined): PlotSeries {
    if (typeof name !== 'string' || name.length === 0 || name.length > 64) throw new HalyardError('strategy_error', `a plot needs a name of 1 to 64 characters, got ${JSON.stringify(name)}`);
    if (color !== undefined && !COLOR.test(color)) throw new HalyardError('strategy_error', `plot "${name}": color must be a CSS colour like '#f59e0b', 'orange' or 'rgb(245, 158, 11)', got ${JSON.stringify(color)}`);
    if (this.series.length >= MAX_PLOTS) throw new HalyardError('strategy_error', `at most ${MAX_PLOTS} plots per strategy; "${name}" is one more`);
    const s: PlotSeries = { name, color: color ?? null, values: new Float64Array(this.length).fill(Number.NaN) };
    this.series.push(s);
    this.byName.set(name, s);
    return s;
  }

  /** Declares `ind` for plotting as `name` (in onInit): its value is recorded after every candle. */
  indicator(name: string, ind: { readonly value: number }, color: string | undefined): void {
    if (this.byName.has(name)) throw new HalyardError('strategy_error', `plot "${name}" is declared twice`);
    this.indicators.push({ ind, values: this.declare(name, color).values });
    this.indicatorNames.add(name);
  }

  /** Records `value` for `name` at kernel candle `i` (declaring the series on its first value). */
  set(name: string, i: number, value: number, color: string | undefined): void {
    if (this.indicatorNames.has(name)) throw new HalyardError('strategy_error', `plot "${name}" plots an indicator (declared in onInit); plot numbers under another name`);
    const s = this.byName.get(name) ?? this.declare(name, color);
    const k = i - this.offset;
    if (k >= 0 && k < this.length) s.values[k] = value;
  }

  /** Reads every declared indicator after kernel candle `i` (the backtest loop). */
  record(i: number): void {
    const k = i - this.offset;
    const list = this.indicators;
    for (let j = 0; j < list.length; j++) {
      const x = list[j]!;
      x.values[k] = x.ind.value;
    }
  }
}
