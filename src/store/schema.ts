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
}
