import { HalyardError, errorMessage, isHalyardError } from '../core/errors.ts';
import type { Notifier } from '../core/ports.ts';
import type { Settings } from '../config.ts';
import { DiscordNotifier } from './discord.ts';
import type { NotifyRetryPolicy } from './http.ts';
import { TelegramNotifier } from './telegram.ts';

/** What an alert is about. */
export type AlertKind = 'strategy_started' | 'strategy_stopped' | 'trade_opened' | 'trade_closed' | 'critical_error';

/** One place alerts go, named for outcomes and logs. */
export interface AlertChannel {
  readonly name: string;
  readonly notifier: Notifier;
}

/** How one channel took one alert. */
export interface AlertOutcome {
  readonly channel: string;
  readonly ok: boolean;
  /** The HalyardError code when it failed (`venue_rejected`, `venue_unavailable`, …). */
  readonly code?: string;
  readonly error?: string;
}

/** Where failed deliveries are reported (a pino logger fits). */
export interface AlertLog {
  warn(obj: object, msg: string): void;
}

/** What `strategyStarted` shows about a run (all optional). */
export interface StrategyDetails {
  readonly symbol?: string;
  readonly timeframe?: string;
  /** Target key `exchange:env`. */
  readonly target?: string;
  /** `paper` or `live`. */
  readonly mode?: string;
  /** Starting balance (quote). */
  readonly balance?: number;
}

/** What `strategyStopped` shows about a finished run (all optional). */
export interface RunSummary {
  readonly trades?: number;
  /** Net PnL (quote). */
  readonly pnl?: number;
  /** Net PnL as % of the starting balance. */
  readonly pnlPercent?: number;
  /** Equity at the stop (quote). */
  readonly equity?: number;
}

/** A position just opened. Prices in quote, qty in base units. */
export interface OpenedTrade {
  readonly strategy: string;
  readonly symbol: string;
  /** `long` or `short`. */
  readonly side: string;
  readonly qty: number;
  readonly entry: number;
  readonly stopLoss: number | null;
  readonly takeProfit: number | null;
  /** Target key `exchange:env`. */
  readonly target?: string;
}

/** A position just closed. Prices and PnL in quote, qty in base units. */
export interface ClosedTrade {
  readonly strategy: string;
  readonly symbol: string;
  readonly side: string;
  readonly qty: number;
  readonly entry: number;
  readonly exit: number;
  /** Net PnL (quote). */
  readonly pnl: number;
  /** PnL as % of the position's entry value. */
  readonly pnlPercent: number;
  /** `take_profit`, `stop_loss`, `signal`, … */
  readonly exitReason: string;
  readonly target?: string;
}

const group2 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const small = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 6 });
const qtyFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 8 });

/** `$1,234.56`, `-$12.30` (quote money, two decimals). */
export function formatMoney(n: number): string {
  return `${n < 0 ? '-' : ''}$${group2.format(Math.abs(n))}`;
}

/** A price: two decimals from 1 up, six significant digits below (`$0.000123457`). */
export function formatPrice(n: number): string {
  return Math.abs(n) >= 1 || n === 0 ? formatMoney(n) : `${n < 0 ? '-' : ''}$${small.format(Math.abs(n))}`;
}

/** `+1.23%`, `-0.50%`. */
export function formatPercent(n: number): string {
  return `${n < 0 ? '-' : '+'}${Math.abs(n).toFixed(2)}%`;
}

/** The base asset of a symbol (`BTC/USDT:USDT` → `BTC`, `ETHUSDT` → `ETH`). */
export function baseAsset(symbol: string): string {
  const slash = symbol.indexOf('/');
  return slash > 0 ? symbol.slice(0, slash) : symbol.replace(/(USDT|USDC|USD|PERP)$/, '') || symbol;
}

const where = (symbol: string, target?: string): string => (target ? `${symbol} on ${target}` : symbol);

/** Alert texts, in Discord markdown (Telegram gets them converted). */
export const alertText = {
  strategyStarted(name: string, d: StrategyDetails = {}): string {
    const run = [d.symbol, d.timeframe, d.target && d.mode ? `${d.target} (${d.mode})` : (d.target ?? d.mode)].filter((x) => x);
    const lines = [`🚀 Strategy **${name}** is now active`];
    if (run.length > 0) lines.push(run.join(' · '));
    if (d.balance !== undefined) lines.push(`Balance: ${formatMoney(d.balance)}`);
    return lines.join('\n');
  },
  strategyStopped(name: string, reason: string, s: RunSummary = {}): string {
    const lines = [`🛑 Strategy **${name}** stopped (${reason})`];
    const stats = [s.trades !== undefined ? `Trades: ${s.trades}` : '', s.pnl !== undefined ? `PnL: ${formatMoney(s.pnl)}${s.pnlPercent !== undefined ? ` (${formatPercent(s.pnlPercent)})` : ''}` : ''].filter((x) => x);
    if (stats.length > 0) lines.push(stats.join(' | '));
    if (s.equity !== undefined) lines.push(`Equity: ${formatMoney(s.equity)}`);
    return lines.join('\n');
  },
  tradeOpened(t: OpenedTrade): string {
    const long = t.side.toLowerCase() === 'long';
    return [
      `${long ? '📈' : '📉'} **${t.side.toUpperCase()}** opened · ${t.strategy}`,
      where(t.symbol, t.target),
      `Entry: ${formatPrice(t.entry)}`,
      `Size: ${qtyFormat.format(t.qty)} ${baseAsset(t.symbol)} (${formatMoney(t.qty * t.entry)})`,
      `SL: ${t.stopLoss === null ? 'none' : formatPrice(t.stopLoss)} | TP: ${t.takeProfit === null ? 'none' : formatPrice(t.takeProfit)}`,
    ].join('\n');
  },
  tradeClosed(t: ClosedTrade): string {
    return [
      `${t.pnl > 0 ? '✅' : '❌'} **${t.side.toUpperCase()}** closed (${t.exitReason}) · ${t.strategy}`,
      where(t.symbol, t.target),
      `Entry: ${formatPrice(t.entry)} → Exit: ${formatPrice(t.exit)}`,
      `Size: ${qtyFormat.format(t.qty)} ${baseAsset(t.symbol)}`,
      `PnL: ${formatMoney(t.pnl)} (${formatPercent(t.pnlPercent)})`,
    ].join('\n');
  },
  criticalError(strategy: string, error: unknown): string {
    const code = isHalyardError(error) ? ` [${error.code}]` : '';
    return `🚨 **CRITICAL** · ${strategy}${code}\n${errorMessage(error)}`;
  },
} as const;

/**
 * Sends each alert to every configured channel at once. A channel that fails does not stop the others,
 * and nothing is thrown: every method resolves with one outcome per channel (failures are also logged),
 * so the trading loop may await it or fire and forget.
 */
export class Alerts implements Notifier {
  constructor(
    /** The channels, in the order outcomes are reported. */
    readonly channels: readonly AlertChannel[],
    private readonly log?: AlertLog,
  ) {}

  /** Sends one alert to every channel. */
  async send(kind: AlertKind | string, text: string): Promise<AlertOutcome[]> {
    return Promise.all(
      this.channels.map(async ({ name, notifier }): Promise<AlertOutcome> => {
        try {
          await notifier.notify({ kind, text });
          return { channel: name, ok: true };
        } catch (e) {
          const code = isHalyardError(e) ? e.code : 'internal';
          this.log?.warn({ channel: name, kind, code, err: errorMessage(e) }, 'alert not delivered');
          return { channel: name, ok: false, code, error: errorMessage(e) };
        }
      }),
    );
  }

  /** The Notifier port: like `send`, never rejects. */
  async notify(message: { readonly kind: string; readonly text: string }): Promise<void> {
    await this.send(message.kind, message.text);
  }

  /** "🚀 Strategy **name** is now active". */
  strategyStarted(name: string, details: StrategyDetails = {}): Promise<AlertOutcome[]> {
    return this.send('strategy_started', alertText.strategyStarted(name, details));
  }

  /** "🛑 Strategy **name** stopped (reason)" with the run's trades, PnL and equity. */
  strategyStopped(name: string, reason: string, summary: RunSummary = {}): Promise<AlertOutcome[]> {
    return this.send('strategy_stopped', alertText.strategyStopped(name, reason, summary));
  }

  /** "📈 **LONG** opened" with entry, size, stop-loss and take-profit. */
  tradeOpened(trade: OpenedTrade): Promise<AlertOutcome[]> {
    return this.send('trade_opened', alertText.tradeOpened(trade));
  }

  /** "✅ **LONG** closed (take_profit)" with entry → exit and PnL. */
  tradeClosed(trade: ClosedTrade): Promise<AlertOutcome[]> {
    return this.send('trade_closed', alertText.tradeClosed(trade));
  }

  /** "🚨 **CRITICAL**" with the error's code and message. */
  criticalError(strategy: string, error: unknown): Promise<AlertOutcome[]> {
    return this.send('critical_error', alertText.criticalError(strategy, error));
  }
}

/** The settings alerts read. */
export type AlertSettings = Pick<Settings, 'DISCORD_WEBHOOK_URL' | 'TELEGRAM_BOT_TOKEN' | 'TELEGRAM_CHAT_ID' | 'TELEGRAM_API_URL'>;

/**
 * Alerts over the channels the settings configure: Discord when `DISCORD_WEBHOOK_URL` is set, Telegram
 * when both `TELEGRAM_BOT_TOKEN` and `TELEGRAM_CHAT_ID` are (one without the other is invalid_config).
 * With neither, an Alerts with no channel (every alert is a no-op).
 */
export function alertsFromSettings(settings: AlertSettings, logger?: AlertLog, policy?: NotifyRetryPolicy): Alerts {
  const channels: AlertChannel[] = [];
  if (settings.DISCORD_WEBHOOK_URL) channels.push({ name: 'discord', notifier: new DiscordNotifier({ url: settings.DISCORD_WEBHOOK_URL, ...(policy ? { policy } : {}) }) });
  const token = settings.TELEGRAM_BOT_TOKEN;
  const chatId = settings.TELEGRAM_CHAT_ID;
  if (token && chatId) {
    channels.push({ name: 'telegram', notifier: new TelegramNotifier({ token, chatId, apiUrl: settings.TELEGRAM_API_URL, ...(policy ? { policy } : {}) }) });
  } else if (token || chatId) {
    throw new HalyardError('invalid_config', `Telegram alerts need both TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID (${token ? 'TELEGRAM_CHAT_ID' : 'TELEGRAM_BOT_TOKEN'} is missing)`);
  }
  return new Alerts(channels, logger);
}
