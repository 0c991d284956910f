/** Run outputs: results.json, trades.csv and the self-contained HTML report. */
export { RESULTS_VERSION, serializeResults, toResultsJson } from './results.ts';
export type { ResultsConfig, ResultsJson, ResultsRejection, ResultsTrade } from './results.ts';
export { csvField, TRADES_CSV_COLUMNS, tradesCsv } from './csv.ts';
export { MAX_TABLE_TRADES, reportHtml } from './html.ts';
export { buildChartData, MAX_MARKER_TRADES } from './chart-data.ts';
export type { ChartData } from './chart-data.ts';
export {
  downsampleCandles, HOURLY_CURVE_MAX_SPAN, MAX_CHART_BARS, pickDisplayTimeframe, sampleEquityCurve,
} from './sampling.ts';
export type { DisplayCandles } from './sampling.ts';
export { RUN_FILES, writeRun } from './write.ts';
export type { WrittenRun } from './write.ts';
