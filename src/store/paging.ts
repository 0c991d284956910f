/** One page of a listing, newest first, and the cursor of the next (older) page. */
export interface Page<T> {
  readonly items: T[];
  /** Pass as `before` to get the next page; null on the last one. */
  readonly next: number | null;
}

/** Cuts rows fetched with `limit + 1` (id descending) into a page: the extra row only says another page exists. */
export function pageOf<T extends { readonly id: number }>(rows: readonly T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  return { items, next: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null };
}
