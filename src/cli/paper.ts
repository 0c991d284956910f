import { Option, type Command } from 'commander';
import type { Settings } from '../config.ts';
import { nonNegative } from './options.ts';
import type { PaperOptions } from './paper-run.ts';

/** `halyard paper`: forward-test a strategy on live candles (or a cached range) against a target. */
export function registerPaperCommand(program: Command, settings: () => Settings): void {
  program
    .command('paper')
    .description('Forward-test a strategy: live candles (or --replay of cached ones) through the backtest kernel, orders on a target, every change stored; restart to resume')
    .argument('<strategy>', 'strategy file (.ts or .js)')
    .option('--target <exchange:env>', 'where orders go: sim:paper (in-process simulated exchange), bybit:paper, binance:paper, hyperliquid:paper, ...', 'sim:paper')
    .option('--run <name>', 'run name; the same name resumes the run (default: <strategy>-<symbol>-<target>)')
    .option('--exchange <name>', 'exchange of the candles (live feed or cache; default: EXCHANGE)')
    .option('--symbol <symbol>', 'ccxt unified symbol (default: SYMBOL)')
    .option('--timeframe <tf>', "base timeframe (default: the strategy's first)")
    .option('--replay <from..to>', 'drive the run from cached candles of this UTC range instead of the live feed')
    .option('--allow-partial', 'replay even when the cache holds only part of --replay (a warning names the range it covers)')
    .option('--speed <n>', 'replay speed: candles arrive n × faster than real time (0: as fast as possible)', '60')
    .option('--warmup <n>', "candles that warm indicators up before trading: live, recent ones fetched (default 500, or the strategy's warmup if larger); --replay, cached ones before the range (default: the strategy's warmup)")
    .option('--param <name=value>', 'strategy parameter (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--balance <quote>', 'starting balance (default: INITIAL_BALANCE)', nonNegative('--balance'))
    .option('--leverage <x>', 'leverage (default: LEVERAGE)', nonNegative('--leverage'))
    .option('--maker-fee <bps>', 'maker fee (default: MAKER_FEE_BPS)', nonNegative('--maker-fee'))
    .option('--taker-fee <bps>', 'taker fee (default: TAKER_FEE_BPS)', nonNegative('--taker-fee'))
    .option('--slippage <bps>', 'slippage on market and stop fills of the sim (default: SLIPPAGE_BPS)', nonNegative('--slippage'))
    .addOption(new Option('--fill <model>', 'how signals fill').choices(['close', 'next-open']).default('close'))
    .addOption(new Option('--sltp <policy>', 'SL and TP both hit in one candle').choices(['conservative', 'candle-direction']).default('conservative'))
    .option('--api-port <port>', 'serve the run\'s positions API on this port (for the tracking server to poll)')
    .option('--api-host <host>', 'interface of the positions API', '127.0.0.1')
    .option('--api-token <token>', 'bearer token of the positions API (default: PAPER_API_TOKEN, else a random one, printed)')
    .action(async (file: string, o: PaperOptions) => {
      const { runPaperCommand } = await import('./paper-run.ts');
      await runPaperCommand(file, o, settings());
    });
}
