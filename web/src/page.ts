import type { Me } from './api.ts';
import type { Live } from './live.ts';

/** What a page gets from the shell. */
export interface PageContext {
  readonly me: Me;
  readonly live: Live;
  /** The part of the hash after the page id (`#/backtests/run-1` → ['run-1']). */
  readonly params: readonly string[];
  /** Query of the hash (`#/terminal?target=sim:paper`). */
  readonly query: URLSearchParams;
  /** Goes to another hash route. */
  readonly navigate: (hash: string) => void;
}

/** A page of the dashboard: draws into `root`, returns what to undo when the user leaves it. */
export interface Page {
  readonly id: string;
  readonly title: string;
  render(root: HTMLElement, ctx: PageContext): (() => void) | void;
}
