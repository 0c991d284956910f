import type { Generated } from 'kysely';

/** Users of the tracking server. `trading_mode` says which envs the monitor visits: paper, live or both. */
export interface UsersTable {
  id: Generated<number>;
  name: string;
  trading_mode: string;
  /** Epoch ms. */
  created_at: number;
}

/** API tokens, stored as SHA-256 hashes (the token itself is shown once). */
export interface ApiTokensTable {
  id: Generated<number>;
  user_id: number;
  token_hash: string;
  /** First characters of the token, to tell tokens apart without revealing them. */
  prefix: string;
  created_at: number;
  /** What the token is for (a label the user chose; `default` for the first). */
  name: Generated<string>;
  /** Last request made with the token (epoch ms; written at most once a minute), null when never used. */
  last_used_at: number | null;
  /** When the token stops working (epoch ms), null for never. */
  expires_at: number | null;
  /** When the token was revoked (epoch ms), null while it works. */
  revoked_at: number | null;
}

/** The fixed list of targets (exchange × env), seeded by the first migration. */
export interface TargetsTable {
  key: string;
  exchange: string;
  env: string;
  account_type: string;
}

/** A user's credentials for one target, encrypted at rest (AES-256-GCM). */
export interface AccountsTable {
  id: Generated<number>;
  user_id: number;
  target_key: string;
  label: string;
  /** `v1:<iv>:<tag>:<ciphertext>` in base64 — never returned by the API. */
  credentials_enc: string;
  created_at: number;
}

/** A named stream of external signals with its own secret webhook URL. */
export interface RecordersTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  secret: string;
  /** `oneway` or `hedge`. */
  position_mode: string;
  /** Signals older than this are rejected (ms). */
  max_lag_ms: number;
  /** Quantity used when a signal carries none. */
  default_qty: number;
  strategy: string | null;
  created_at: number;
  deleted_at: number | null;
  /** The webhook secret a rotation replaced, still accepted until `previous_secret_until`. */
  previous_secret: string | null;
  /** End of the old secret's grace period (epoch ms), null when there is none. */
  previous_secret_until: number | null;
}

/** Which targets a recorder's positions belong to, with a size multiplier. */
export interface RecorderTargetsTable {
  recorder_id: number;
  target_key: string;
  multiplier: number;
}

/** Every webhook delivery, append-only, with its raw body and outcome. */
export interface SignalsTable {
  id: Generated<number>;
  recorder_id: number;
  user_id: number;
  received_at: number;
  format: string;
  action: string;
  ticker: string;
  qty: number | null;
  price: number | null;
  signal_time: number | null;
  order_id: string | null;
  target_size: number | null;
  position_side: string | null;
  stop_loss: number | null;
  take_profit: number | null;
  dedupe_key: string;
  /** `accepted`, `duplicate` or `rejected`. */
  outcome: string;
  reason: string | null;
  raw_body: string;
  content_type: string | null;
}

/** Positions (signal, engine, webapp or exchange sourced); a projection rebuildable from the logs. */
export interface PositionsTable {
  id: string;
  user_id: number;
  recorder_id: number | null;
  target_key: string | null;
  source: string;
  opened_by: string;
  strategy: string | null;
  symbol: string;
  side: string;
  position_side: string | null;
  /** `open` or `closed`. */
  status: string;
  qty: number;
  max_qty: number;
  entry_price: number;
  realized_pnl: number;
  fees: number;
  funding: number;
  max_adverse: number;
  stop_loss: number | null;
  take_profit: number | null;
  /** Latest price known for the symbol (signal price or mark). */
  last_price: number | null;
  opened_at: number;
  closed_at: number | null;
  exit_price: number | null;
  avg_exit_price: number | null;
  exited_qty: number;
  updated_at: number;
  /** The engine's own position id (engine positions) or the exchange's key (adopted orphans). */
  external_id: string | null;
  /** The engine source that reported this position (engine positions). */
  engine_source_id: string | null;
  /** Why a position closed when not by its own source (`closed_externally`, ...). */
  close_reason: string | null;
  /** The strategy it is assigned to (strategies.id). */
  strategy_id: number | null;
}

/** Every change of a position's size: open, add, reduce, close. */
export interface PositionEntriesTable {
  id: Generated<number>;
  position_id: string;
  kind: string;
  qty: number;
  price: number;
  realized_pnl: number;
  ts: number;
  signal_id: number | null;
}

/** Closed positions (round trips). */
export interface TradesTable {
  id: Generated<number>;
  position_id: string;
  user_id: number;
  recorder_id: number | null;
  target_key: string | null;
  source: string;
  strategy: string | null;
  symbol: string;
  side: string;
  qty: number;
  entry_price: number;
  exit_price: number;
  realized_pnl: number;
  fees: number;
  max_adverse: number;
  opened_at: number;
  closed_at: number;
}

/** Equity history points (per recorder for signal streams, per target for accounts). */
export interface EquityPointsTable {
  id: Generated<number>;
  user_id: number;
  recorder_id: number | null;
  target_key: string | null;
  ts: number;
  realized: number;
  unrealized: number;
}

/**
 * An order we mean to place (or cancel), written before anything is sent so a retry or a restart never
 * places it twice; then the venue's answer. `status`: pending → sending → open | filled | canceled |
 * rejected | failed (pending again, with `next_attempt_at`, after a transient error).
 */
export interface OrderIntentsTable {
  id: Generated<number>;
  user_id: number;
  target_key: string;
  recorder_id: number | null;
  signal_id: number | null;
  /** Intents of one group (target × recorder × symbol × leg) go out one after another, in id order. */
  group_key: string;
  /** `place` or `cancel`. */
  action: string;
  /** `entry`, `exit`, `stop_loss`, `take_profit`, `close` or `manual`. */
  role: string;
  /** For a cancel: the intent whose order it cancels. */
  cancels_intent_id: number | null;
  /** Deterministic client order id (the venue refuses a reuse). */
  client_id: string;
  symbol: string;
  side: string;
  type: string;
  qty: number;
  price: number | null;
  trigger_price: number | null;
  position_side: string | null;
  /** 1 or 0. */
  reduce_only: number;
  /** `signal`, `webapp` or `engine`. */
  source: string;
  /** `signal`, `user` or `engine`. */
  opened_by: string;
  status: string;
  attempts: number;
  /** Epoch ms; when a pending intent may be tried again. */
  next_attempt_at: number | null;
  last_error: string | null;
  /** Error code of `last_error` (venue_rejected, venue_unavailable, invalid_config, ...). */
  last_error_code: string | null;
  venue_order_id: string | null;
  filled_qty: number;
  avg_fill_price: number | null;
  /** The venue's last answer (JSON). */
  raw: string | null;
  created_at: number;
  updated_at: number;
  /** The ledger position this order acts on (a close of one row, a dashboard position's bracket); null otherwise. */
  position_id: string | null;
  /** How much of `filled_qty` is booked on the ledger (base units); a fill is booked once, whenever it is seen. */
  booked_qty: Generated<number>;
  /** Σ qty × price of the booked part (quote), so a later partial fill is booked at its own price. */
  booked_cost: Generated<number>;
  /** A dashboard entry's stop-loss trigger (quote), placed as a reduce-only order once it fills. */
  stop_loss: number | null;
  /** A dashboard entry's take-profit trigger (quote), placed once it fills. */
  take_profit: number | null;
}

/** The positions a venue reported at its latest snapshot, per user and target. */
export interface VenuePositionsTable {
  user_id: number;
  target_key: string;
  symbol: string;
  side: string;
  position_side: string | null;
  qty: number;
  entry_price: number;
  mark_price: number | null;
  unrealized_pnl: number | null;
  /** The exchange's payload (JSON). */
  raw: string;
  /** Epoch ms. */
  fetched_at: number;
}

/** When each user's target was last snapshotted (a flat venue has no position rows, but has this). */
export interface VenueSnapshotsTable {
  user_id: number;
  target_key: string;
  /** Epoch ms. */
  fetched_at: number;
  /** Number of positions the venue reported. */
  positions: number;
}

/** A forward-test (paper) run of a strategy: what it runs and how far it got. */
export interface PaperRunsTable {
  /** Run name, chosen by the user or derived from strategy, symbol and target. */
  id: string;
  strategy: string;
  strategy_path: string;
  symbol: string;
  target_key: string;
  timeframe: string;
  /** `live` (live candle feed) or `replay` (from the Parquet cache). */
  mode: string;
  /** The run's settings (JSON): balance, leverage, fees, replay range, ... */
  config: string;
  /** `running`, `stopped`, `finished` or `failed`. */
  status: string;
  /** Open time (epoch ms) of the last base candle fully processed, or null before the first. */
  cursor_ts: number | null;
  /** Base candles processed. */
  candles: number;
  /** Sequence of engine events issued (for ordering them on the server). */
  seq: number;
  started_at: number;
  updated_at: number;
  stopped_at: number | null;
  stop_reason: string | null;
}

/** A run's wallet (one row per run). */
export interface PortfolioTable {
  run_id: string;
  initial_balance: number;
  balance: number;
  fees_paid: number;
  funding_net: number;
  /** Equity at the latest close (quote). */
  equity: number;
  updated_at: number;
}

/** The strategy's own state (`strategy.vars`), as JSON, per run. */
export interface StrategyStateTable {
  run_id: string;
  state_json: string;
  updated_at: number;
}

/** A run's positions (open and closed) with the full core `Position` as JSON in `data`. */
export interface RunPositionsTable {
  run_id: string;
  position_id: string;
  status: string;
  symbol: string;
  side: string;
  qty: number;
  entry_price: number;
  data: string;
  opened_at: number;
  closed_at: number | null;
  updated_at: number;
}

/** A run's closed trades (the backtest's `TradeRecord` as JSON in `data`). */
export interface RunTradesTable {
  run_id: string;
  position_id: string;
  exit_reason: string;
  pnl: number;
  data: string;
  closed_at: number;
}

/** Orders a run sent to its venue, keyed by deterministic client id. */
export interface RunOrdersTable {
  run_id: string;
  client_id: string;
  /** Open time of the candle that produced the order (epoch ms). */
  candle_ts: number;
  /** Order of the order within its candle. */
  seq: number;
  symbol: string;
  side: string;
  type: string;
  qty: number;
  position_side: string | null;
  reduce_only: number;
  /** Why the order exists: `signal`, `stop_loss`, `take_profit`, `liquidation`, `flip`, ... */
  reason: string;
  /** Market price the order was decided at (quote, before slippage). */
  reference: number;
  /** Limit price of a limit order (quote). */
  limit_price: number | null;
  /** 1 when the order rested before the price reached it (a maker take-profit). */
  maker: number;
  /** `sending`, `filled`, `rejected`, `failed`. */
  status: string;
  filled_qty: number;
  fill_price: number | null;
  fee: number | null;
  venue_order_id: string | null;
  error: string | null;
  raw: string | null;
  created_at: number;
  updated_at: number;
}

/** Engine events waiting for (or done with) delivery to the tracking server. */
export interface OutboxTable {
  id: Generated<number>;
  run_id: string;
  /** Standard Webhooks `webhook-id`: the receiver's idempotency key. */
  webhook_id: string;
  event_type: string;
  /** The JSON body, exactly as it will be signed and sent. */
  payload: string;
  /** `pending`, `delivered` or `dead` (refused for good). */
  status: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
  /** Who claimed the row to work it (a server or sender id; PostgreSQL fleets only), or null. */
  claimed_by: string | null;
  /** Epoch ms until which the claim holds; after it another worker may take the row again. */
  claim_until: number | null;
}

/** Alerts (Discord, Telegram) waiting for (or done with) delivery: one row per alert and channel, sent in id order per stream and channel. */
export interface AlertsTable {
  id: Generated<number>;
  /** What is ordered together: `run:<run id>` for a paper run. */
  stream: string;
  /** `discord` or `telegram`. */
  channel: string;
  /** `strategy_started`, `trade_opened`, `trade_closed`, `strategy_stopped`, `critical_error`. */
  kind: string;
  /** The message, in Discord markdown (Telegram gets it converted). */
  text: string;
  /** `pending`, `delivered` or `dead` (refused, or given up after the retry policy's attempts). */
  status: string;
  attempts: number;
  /** Epoch ms. */
  next_attempt_at: number;
  last_error: string | null;
  /** Epoch ms. */
  created_at: number;
  /** Epoch ms. */
  delivered_at: number | null;
  /** Who claimed the row to deliver it (a sender id; PostgreSQL only), or null. */
  claimed_by: string | null;
  /** Epoch ms until which the claim holds; after it another sender may take the row again. */
  claim_until: number | null;
}

/** An engine that posts position events to `/hooks/engine?source=<id>`, signed with `secret`. */
export interface EngineSourcesTable {
  /** Public id (`es_…`), named in the webhook URL. */
  id: string;
  user_id: number;
  name: string;
  /** Standard Webhooks secret, `whsec_<base64>`. */
  secret: string;
  /** Target assumed when an event names none. */
  target_key: string | null;
  /** The engine's positions API (the paper runtime's), polled when events stop arriving. */
  poll_url: string | null;
  /** Bearer token for `poll_url`, encrypted like account credentials. */
  poll_token_enc: string | null;
  last_event_at: number | null;
  last_poll_at: number | null;
  /** The signing secret a rotation replaced, still accepted until `previous_secret_until`. */
  previous_secret: string | null;
  /** End of the old secret's grace period (epoch ms), null when there is none. */
  previous_secret_until: number | null;
  created_at: number;
  deleted_at: number | null;
}

/** Engine events as received (raw body kept), deduplicated per source on `webhook-id`. */
export interface EngineEventsTable {
  id: Generated<number>;
  user_id: number;
  source_id: string;
  webhook_id: string;
  event_type: string;
  position_id: string;
  target_key: string | null;
  symbol: string;
  strategy: string | null;
  /** The event's own time (epoch ms). */
  event_ts: number;
  received_at: number;
  raw_body: string;
  /** `received`, `processed`, `ignored` (older than the state already applied) or `failed`. */
  status: string;
  error: string | null;
  processed_at: number | null;
}

/** The durable work queue of the server (engine events to process, snapshots to take, ...). */
export interface JobsTable {
  id: Generated<number>;
  kind: string;
  payload: string;
  /** `queued`, `running`, `done` or `failed`. */
  status: string;
  attempts: number;
  /** Epoch ms; not before. */
  run_at: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  /** Who claimed the row to work it (a server or sender id; PostgreSQL fleets only), or null. */
  claimed_by: string | null;
  /** Epoch ms until which the claim holds; after it another worker may take the row again. */
  claim_until: number | null;
}

/** Strategies a user's positions are assigned to (created from engine events' strategy names). */
export interface StrategiesTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  created_at: number;
}

/** Exchange snapshots of a user's target: the equity history (scheduled, event-driven or manual). */
export interface SnapshotsTable {
  id: Generated<number>;
  user_id: number;
  target_key: string;
  ts: number;
  /** `scheduled`, `event`, `monitor` or `manual`. */
  trigger: string;
  /** `ok` or `failed`. */
  status: string;
  balance: number | null;
  equity: number | null;
  unrealized_pnl: number | null;
  positions: number | null;
  error: string | null;
}

/** A difference between the ledger and the exchange: orphan, ghost or conflict. */
export interface ReconciliationIssuesTable {
  id: Generated<number>;
  user_id: number;
  target_key: string;
  symbol: string;
  /** The leg (`long` / `short`) or, in one-way mode, the side held. */
  side: string;
  /** `orphan`, `ghost` or `conflict`. */
  kind: string;
  /** `open`, `resolved`, `adopted` or `closed_externally`. */
  status: string;
  ledger_qty: number | null;
  ledger_price: number | null;
  exchange_qty: number | null;
  exchange_price: number | null;
  /** Ledger positions involved (JSON array of ids). */
  position_ids: string | null;
  /** Consecutive checks with an explicit flat report (ghosts). */
  flat_checks: number;
  detail: string | null;
  first_seen: number;
  last_seen: number;
  resolved_at: number | null;
  resolution: string | null;
}

/** Every change of a position with its source. */
export interface AuditLogTable {
  id: Generated<number>;
  user_id: number;
  position_id: string;
  /** `signal`, `engine`, `webapp`, `exchange`, `reconciler`, ... */
  source: string;
  /** `opened`, `updated`, `closed`, `closed_externally`, `adopted`, `conflict`, ... */
  action: string;
  /** JSON with before / after values or the event. */
  detail: string | null;
  ts: number;
}

/** Per-user settings of a target (one row per user × target; a missing row means the exchange's defaults). */
export interface TargetSettingsTable {
  user_id: number;
  target_key: string;
  /** What a reconciliation conflict does: `exchange` (take the venue's size and entry) or `record` (only record it). */
  reconcile_policy: string;
  /** Epoch ms. */
  updated_at: number;
}

/** Who runs a scheduled loop or works a target across a fleet of servers, until when (PostgreSQL fleets). */
export interface LeasesTable {
  /** `monitor`, `engine-poller`, `settle`, `target:<user>|<exchange:env>`, … */
  name: string;
  /** The server holding it (`host:pid:random`). */
  holder: string;
  /** Epoch ms on the database's clock; after it any server may take the lease. */
  expires_at: number;
  /** Epoch ms (database clock) when the current holder took it. */
  acquired_at: number;
  /** Epoch ms (database clock) of the holder's latest renewal. */
  renewed_at: number;
  /** Bumped every time the lease changes hands. */
  fence: number;
}

/** The whole relational schema as Kysely sees it. */
export interface Database {
  users: UsersTable;
  api_tokens: ApiTokensTable;
  targets: TargetsTable;
  accounts: AccountsTable;
  recorders: RecordersTable;
  recorder_targets: RecorderTargetsTable;
  signals: SignalsTable;
  positions: PositionsTable;
  position_entries: PositionEntriesTable;
  trades: TradesTable;
  equity_points: EquityPointsTable;
  order_intents: OrderIntentsTable;
  venue_positions: VenuePositionsTable;
  venue_snapshots: VenueSnapshotsTable;
  paper_runs: PaperRunsTable;
  portfolio: PortfolioTable;
  strategy_state: StrategyStateTable;
  run_positions: RunPositionsTable;
  run_trades: RunTradesTable;
  run_orders: RunOrdersTable;
  outbox: OutboxTable;
  alerts: AlertsTable;
  engine_sources: EngineSourcesTable;
  engine_events: EngineEventsTable;
  jobs: JobsTable;
  strategies: StrategiesTable;
  snapshots: SnapshotsTable;
  reconciliation_issues: ReconciliationIssuesTable;
  audit_log: AuditLogTable;
  target_settings: TargetSettingsTable;
  leases: LeasesTable;
}
