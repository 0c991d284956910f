import { api, ApiError, type Order, type NewOrder } from '../api.ts';
import { errorText, h, price, qty, tickerOf } from '../ui.ts';

/** The order ticket of a target: the form and a hook to show the latest mark of its symbol. */
export interface OrderTicket {
  readonly el: HTMLElement;
  /** Shows the latest price of the ticket's symbol (from the pushed marks). */
  applyMarks(marks: ReadonlyMap<string, { price: number }>): void;
}

/** Body of POST /api/orders, from the server's schema (api.ts does not export it yet). */

/** A fresh idempotency key per submission, so a double click or a retried request places one order. */
function clientOrderId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** A number typed in a field: null when empty, NaN when not a number. */
function numberOf(input: HTMLInputElement): number | null {
  const t = input.value.trim();
  return t === '' ? null : Number(t);
}

/** What the venue did with the order, in the trader's words, and how it went (for the colour). */
function outcome(o: Order): { text: string; state: 'ok' | 'warn' | 'error' } {
  const what = `${o.type} ${o.side} ${qty(o.qty)} ${o.symbol}`;
  if (o.status === 'filled') return { text: `Order #${o.id} filled at ${price(o.avg_fill_price)} (${what})`, state: 'ok' };
  if (o.status === 'open') return { text: `Order #${o.id} resting: ${what} at ${price(o.price ?? o.trigger_price)}`, state: 'ok' };
  if (o.status === 'pending' || o.status === 'sending') return { text: `Order #${o.id} queued: the venue did not answer, Halyard retries it${o.error ? ` (${o.error})` : ''}`, state: 'warn' };
  if (o.status === 'rejected' || o.status === 'failed') return { text: `Refused: ${o.error ?? o.status}`, state: 'error' };
  return { text: `Order #${o.id} ${o.status} (${what})`, state: 'ok' };
}

/** The order ticket for `target` (POST /api/orders); `placed` runs after the venue took an order. */
export function orderTicket(target: string, placed: () => void): OrderTicket {
  const field = (name: string, label: string, input: HTMLElement, hint?: Node): { wrap: HTMLElement; error: HTMLElement } => {
    const error = h('div', { class: 'field-error', id: `ticket-${name}-error`, role: 'alert', hidden: true });
    const wrap = h('div', { class: `field field-${name}` }, h('label', { for: `ticket-${name}` }, label), input, hint ?? null, error);
    return { wrap, error };
  };
  const input = (name: string, attrs: Record<string, string> = {}): HTMLInputElement =>
    h('input', { id: `ticket-${name}`, name, autocomplete: 'off', 'aria-describedby': `ticket-${name}-error`, ...attrs });

  const symbol = input('symbol', { value: 'BTCUSDT', spellcheck: 'false', autocapitalize: 'characters' });
  const side = h('select', { id: 'ticket-side', name: 'side' }, h('option', { value: 'buy' }, 'Buy / long'), h('option', { value: 'sell' }, 'Sell / short'));
  const type = h('select', { id: 'ticket-type', name: 'type' }, h('option', { value: 'market' }, 'Market'), h('option', { value: 'limit' }, 'Limit'));
  const amount = input('qty', { type: 'number', inputmode: 'decimal', step: 'any', min: '0', placeholder: '0.01' });
  const limit = input('price', { type: 'number', inputmode: 'decimal', step: 'any', min: '0' });
  const stopLoss = input('stop_loss', { type: 'number', inputmode: 'decimal', step: 'any', min: '0', placeholder: 'optional' });
  const takeProfit = input('take_profit', { type: 'number', inputmode: 'decimal', step: 'any', min: '0', placeholder: 'optional' });
  const hedge = h('input', { type: 'checkbox', id: 'ticket-hedge', name: 'hedge' });
  const positionSide = h('select', { id: 'ticket-position_side', name: 'position_side' }, h('option', { value: 'long' }, 'Long leg'), h('option', { value: 'short' }, 'Short leg'));
  const lastPrice = h('div', { class: 'muted field-hint', 'data-testid': 'ticket-mark' });

  const fSymbol = field('symbol', 'Symbol', symbol, lastPrice);
  const fQty = field('qty', 'Quantity (base units)', amount);
  const fPrice = field('price', 'Limit price', limit);
  const fSl = field('stop_loss', 'Stop loss', stopLoss);
  const fTp = field('take_profit', 'Take profit', takeProfit);
  const fLeg = field('position_side', 'Position side', positionSide);
  const submit = h('button', { type: 'submit', class: 'btn btn-buy ticket-submit', 'data-testid': 'place-order' }, 'Buy');
  const result = h('div', { class: 'ticket-result', 'data-testid': 'ticket-result', role: 'status', 'aria-live': 'polite', hidden: true });

  let marks: ReadonlyMap<string, { price: number }> = new Map();
  const markOf = (): number | null => marks.get(tickerOf(symbol.value.trim() || 'x'))?.price ?? null;

  const sync = (): void => {
    const isLimit = type.value === 'limit';
    fPrice.wrap.hidden = !isLimit;
    fQty.wrap.classList.toggle('field-wide', !isLimit);
    limit.disabled = !isLimit;
    fLeg.wrap.hidden = !hedge.checked;
    positionSide.disabled = !hedge.checked;
    const buy = side.value === 'buy';
    submit.className = `btn ticket-submit ${buy ? 'btn-buy' : 'btn-sell'}`;
    submit.textContent = `${buy ? 'Buy' : 'Sell'} ${symbol.value.trim().toUpperCase() || ''}${isLimit ? ' limit' : ' market'}`.trim();
    const m = markOf();
    lastPrice.textContent = m === null ? 'No price seen yet for this symbol' : `Last ${price(m)}`;
  };
  for (const el of [side, type, hedge, symbol]) el.addEventListener(el === symbol ? 'input' : 'change', sync);

  const setError = (f: { error: HTMLElement }, inputEl: HTMLElement, message: string | null): boolean => {
    f.error.hidden = message === null;
    f.error.textContent = message ?? '';
    if (message === null) inputEl.removeAttribute('aria-invalid');
    else inputEl.setAttribute('aria-invalid', 'true');
    return message === null;
  };

  /** Checks the form; returns the order body, or null after marking the fields at fault. */
  const validate = (): NewOrder | null => {
    const sym = symbol.value.trim().toUpperCase();
    const q = numberOf(amount);
    const isLimit = type.value === 'limit';
    const p = isLimit ? numberOf(limit) : null;
    const sl = numberOf(stopLoss);
    const tp = numberOf(takeProfit);
    const buy = side.value === 'buy';
    // Levels are checked against the limit price, or the latest mark for a market order.
    const ref = isLimit ? p : markOf();
    const level = (v: number | null, name: string, below: boolean): string | null => {
      if (v === null) return null;
      if (!Number.isFinite(v) || v <= 0) return `${name} must be a positive price`;
      if (ref !== null && Number.isFinite(ref) && ref > 0 && (below ? v >= ref : v <= ref)) return `${name} must be ${below ? 'below' : 'above'} ${price(ref)} for a ${buy ? 'buy' : 'sell'}`;
      return null;
    };
    const ok = [
      setError(fSymbol, symbol, sym === '' ? 'Enter a symbol, e.g. BTCUSDT' : /^[A-Z0-9._/:-]+$/.test(sym) ? null : 'Letters, digits and . _ / : - only'),
      setError(fQty, amount, q === null ? 'Enter a quantity' : !Number.isFinite(q) || q <= 0 ? 'Quantity must be greater than 0' : null),
      setError(fPrice, limit, !isLimit ? null : p === null ? 'A limit order needs a price' : !Number.isFinite(p) || p <= 0 ? 'Price must be greater than 0' : null),
      setError(fSl, stopLoss, level(sl, 'Stop loss', buy)),
      setError(fTp, takeProfit, level(tp, 'Take profit', !buy)),
    ].every(Boolean);
    if (!ok || q === null) return null;
    return {
      target,
      symbol: sym,
      side: buy ? 'buy' : 'sell',
      type: isLimit ? 'limit' : 'market',
      qty: q,
      ...(isLimit && p !== null ? { price: p } : {}),
      ...(hedge.checked ? { position_side: positionSide.value === 'short' ? ('short' as const) : ('long' as const) } : {}),
      ...(sl !== null ? { stop_loss: sl } : {}),
      ...(tp !== null ? { take_profit: tp } : {}),
      client_order_id: clientOrderId(),
    };
  };

  const show = (text: string, state: 'ok' | 'warn' | 'error'): void => {
    result.hidden = false;
    result.textContent = text;
    result.dataset.state = state;
  };

  const form = h(
    'form',
    { class: 'ticket', 'data-testid': 'order-ticket', novalidate: true },
    h('div', { class: 'ticket-grid' }, fSymbol.wrap, field('side', 'Side', side).wrap, field('type', 'Type', type).wrap, fQty.wrap, fPrice.wrap, fSl.wrap, fTp.wrap),
    h('label', { class: 'check' }, hedge, h('span', {}, 'Hedge mode (long and short legs)')),
    fLeg.wrap,
    submit,
    result,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body = validate();
    if (!body) return;
    submit.disabled = true;
    show('Sending…', 'warn');
    api<Order>('/api/orders', { method: 'POST', body })
      .then((o) => {
        const r = outcome(o);
        show(r.text, r.state);
        placed();
      })
      .catch((e: unknown) => show(e instanceof ApiError && e.status === 422 ? `Refused: ${e.message}` : `Failed: ${errorText(e)}`, 'error'))
      .finally(() => (submit.disabled = false));
  });
  sync();

  return {
    el: form,
    applyMarks(m) {
      marks = m;
      const p = markOf();
      if (p !== null) lastPrice.textContent = `Last ${price(p)}`;
    },
  };
}
