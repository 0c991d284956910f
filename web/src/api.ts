import type { z } from 'zod';
import type { ClosePositionSchema, NewOrderSchema, NewRecorderSchema, OrderSchema, PositionSchema, RecorderPositionSchema, RecorderSchema, SignalExecutionSchema, SignalSchema, TargetSchema, TradeSchema, VenuePositionSchema } from '../../src/server/schemas.ts';
import type { AuditSchema, StrategyPositionSchema, StrategyStatsSchema } from '../../src/server/schemas-engine.ts';
import type { IssueSchema, TargetHistorySchema } from '../../src/server/schemas-reconcile.ts';
import type { BacktestDetailSchema, BacktestRunSchema, ChartDataSchema, MarksSchema, MeSchema, TerminalRowSchema, TerminalSchema } from '../../src/server/schemas-web.ts';

// The API's types come from the server's own schemas (type-only imports: nothing of the server is bundled).
export type Me = z.infer<typeof MeSchema>;
export type Position = z.infer<typeof PositionSchema>;
export type Recorder = z.infer<typeof RecorderSchema>;
export type RecorderPosition = z.infer<typeof RecorderPositionSchema>;
export type Signal = z.infer<typeof SignalSchema>;
/** What a signal became on one target (an item of `Signal.executions`). */
export type SignalExecution = z.infer<typeof SignalExecutionSchema>;
export type Trade = z.infer<typeof TradeSchema>;
export type Target = z.infer<typeof TargetSchema>;
export type Order = z.infer<typeof OrderSchema>;
/** Body of POST /api/orders (as sent: defaults may be left out). */
export type NewOrder = z.input<typeof NewOrderSchema>;
/** Body of POST /api/positions/close. */
export type ClosePosition = z.input<typeof ClosePositionSchema>;
/** Body of POST /api/recorders. */
export type NewRecorder = z.input<typeof NewRecorderSchema>;
export type VenuePosition = z.infer<typeof VenuePositionSchema>;
export type StrategyStats = z.infer<typeof StrategyStatsSchema>;
export type StrategyPosition = z.infer<typeof StrategyPositionSchema>;
export type AuditEntry = z.infer<typeof AuditSchema>;
export type Issue = z.infer<typeof IssueSchema>;
export type TargetHistory = z.infer<typeof TargetHistorySchema>;
export type Marks = z.infer<typeof MarksSchema>;
export type Terminal = z.infer<typeof TerminalSchema>;
export type TerminalRow = z.infer<typeof TerminalRowSchema>;
export type BacktestRun = z.infer<typeof BacktestRunSchema>;
export type BacktestDetail = z.infer<typeof BacktestDetailSchema>;
export type ChartData = z.infer<typeof ChartDataSchema>;
/** A point of a recorder's equity curve (GET /api/recorders/:id/equity). */
export interface RecorderEquityPoint {
  readonly ts: number;
  readonly realized: number;
  readonly unrealized: number;
  readonly equity: number;
  readonly drawdown: number;
}

/** The localStorage key of the session's API token (sign-out removes it). */
export const TOKEN_STORAGE_KEY = 'halyard.token';

/** The API token of this browser's session (localStorage), or null when signed out. */
export function savedToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_STORAGE_KEY);
  } catch {
    return null;
  }
}

/** Keeps (or, with null, forgets) the session's API token. */
export function saveToken(token: string | null): void {
  try {
    if (token === null) localStorage.removeItem(TOKEN_STORAGE_KEY);
    else localStorage.setItem(TOKEN_STORAGE_KEY, token);
  } catch {
    // Storage refused (private mode, quota): the session then lasts as long as the page.
  }
}

/** An error answer of the API (or a network failure, status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Called when the server answers 401 (with its reason: unknown, revoked or expired token): the shell signs out. */
let onUnauthorized: (reason: string) => void = () => {};

/** Sets what a 401 answer does (the shell forgets the token and shows the sign-in page with the reason). */
export function setUnauthorizedHandler(fn: (reason: string) => void): void {
  onUnauthorized = fn;
}

/** Reports a 401 seen outside api() (the live push): the shell signs out with the server's reason. */
export function reportUnauthorized(reason: string): void {
  onUnauthorized(reason);
}

/** Calls the API with the session's bearer token; JSON in and out; errors become ApiError. */
export async function api<T>(path: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<T> {
  const token = init.token ?? savedToken();
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method: init.method ?? 'GET', headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
  } catch (e) {
    throw new ApiError(0, 'network', `the server did not answer (${(e as Error).message})`);
  }
  if (res.status === 204) return null as T;
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string } } | null)?.error;
    if (res.status === 401 && init.token === undefined) onUnauthorized(err?.message ?? 'the server no longer knows this token');
    throw new ApiError(res.status, err?.code ?? 'http_error', err?.message ?? `HTTP ${res.status}`);
  }
  return data as T;
}

/** A query string from the defined values (`?a=1&b=x`, or '' when none). */
export function qs(params: Record<string, string | number | boolean | null | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}
