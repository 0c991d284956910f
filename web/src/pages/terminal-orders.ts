import { api, qs, type Order } from '../api.ts';
import { badge, card, errorText, h, loadInto, price, qty, table, time, toast } from '../ui.ts';

/** The order filters of the terminal: each a set of statuses (empty: every state). */
const FILTERS = {
  all: [],
  active: ['pending', 'sending', 'open'],
  filled: ['filled'],
  canceled: ['canceled'],
  failed: ['failed', 'rejected'],
} as const satisfies Record<string, readonly string[]>;

/** A filter name. */
type Filter = keyof typeof FILTERS;

/** What the status badge says: `open` with a fill is partially filled; pending is queued for a retry. */
function statusLabel(o: Order): string {
  if (o.status === 'open' && o.filled_qty > 0) return 'partially filled';
  if (o.status === 'pending') return o.attempts > 0 ? 'queued (retrying)' : 'queued';
  return o.status;
}

/** True while the order can still be canceled: queued here, being sent, or resting at the venue. */
function cancelable(o: Order): boolean {
  return o.status === 'pending' || o.status === 'sending' || o.status === 'open';
}

/** The orders of a target in every state (GET /api/orders), with the venue's reason and a cancel button while one can cancel. */
export function openOrdersView(target: string): { el: HTMLElement; reload: () => void } {
  const body = h('div', { class: 'orders-body' });
  let filter: Filter = 'all';
  const select = h('select', { class: 'orders-filter', 'data-testid': 'orders-filter', 'aria-label': 'Order states' }) as HTMLSelectElement;
  for (const [value, label] of [
    ['all', 'All states'],
    ['active', 'Active (queued, sending, open)'],
    ['filled', 'Filled'],
    ['canceled', 'Canceled'],
    ['failed', 'Failed / rejected'],
  ] as const) {
    select.append(h('option', { value }, label));
  }
  select.addEventListener('change', () => {
    filter = select.value as Filter;
    void reload();
  });
  const el = card('Orders', body, [select]);

  const cancel = async (o: Order, button: HTMLButtonElement): Promise<void> => {
    button.disabled = true;
    try {
      const after = await api<Order>(`/api/orders/${o.id}`, { method: 'DELETE' });
      toast(`Order #${o.id} (${o.symbol}) ${after.status === 'canceled' ? 'canceled' : after.status}${after.filled_qty > 0 ? `, ${qty(after.filled_qty)} filled before` : ''}`);
      void reload();
    } catch (e) {
      toast(`Cancel #${o.id}: ${errorText(e)}`, 'error');
      button.disabled = false;
    }
  };

  const reload = loadInto(
    body,
    () => {
      const statuses = FILTERS[filter];
      return api<{ items: Order[]; next: number | null }>(`/api/orders${qs({ target, action: 'place', limit: 50, ...(statuses.length ? { status: statuses.join(',') } : {}) })}`);
    },
    (page) =>
      table<Order>(
        [
          { label: 'Placed', field: 'time', cell: (o) => h('span', { class: 'muted', title: `${time(o.created_at)} UTC` }, time(o.created_at).slice(11)) },
          { label: 'Symbol', field: 'symbol', cell: (o) => h('strong', {}, o.symbol) },
          { label: 'Side', field: 'side', cell: (o) => [badge(o.side), o.position_side ? h('span', { class: 'muted leg' }, ` ${o.position_side} leg`) : null] },
          { label: 'Type', field: 'type', cell: (o) => [o.type.replace('_', '-'), o.reduce_only ? h('span', { class: 'muted' }, ' reduce-only') : null] },
          { label: 'Qty', field: 'qty', className: 'num', cell: (o) => qty(o.qty) },
          { label: 'Price', field: 'price', className: 'num', cell: (o) => price(o.price ?? o.trigger_price) },
          { label: 'Filled', field: 'filled', className: 'num', cell: (o) => (o.filled_qty > 0 ? `${qty(o.filled_qty)} @ ${price(o.avg_fill_price)}` : qty(0)) },
          { label: 'Status', field: 'status', cell: (o) => badge(statusLabel(o), o.status) },
          { label: 'Reason', field: 'reason', className: 'reason', cell: (o) => (o.error ? h('span', { class: o.status === 'pending' ? 'warn' : 'neg', title: o.error_code ?? '' }, o.error) : null) },
          { label: 'From', field: 'role', cell: (o) => [badge(o.source), h('span', { class: 'muted' }, ` ${o.role.replace('_', '-')}`)] },
          {
            label: '',
            field: 'actions',
            className: 'actions',
            cell: (o) => {
              if (!cancelable(o)) return null;
              const b = h('button', { type: 'button', class: 'btn btn-small btn-danger', 'data-testid': 'cancel-order' }, 'Cancel');
              b.addEventListener('click', () => void cancel(o, b));
              return b;
            },
          },
        ],
        page.items,
        (o) => ({ 'data-order-id': o.id, 'data-status': o.status, 'data-symbol': o.symbol }),
        'orders',
      ),
    {
      isEmpty: (page) => page.items.length === 0,
      empty: 'No orders in this view: signal orders, ticket orders and brackets show here in every state.',
      loading: 'Loading orders…',
    },
  );
  return { el, reload: () => void reload() };
}
