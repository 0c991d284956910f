import { api, qs, type Order } from '../api.ts';
import { badge, card, errorText, h, loadInto, price, qty, table, time, toast } from '../ui.ts';

/** The open orders of a target (GET /api/orders?status=open) with a cancel button each. */
export function openOrdersView(target: string): { el: HTMLElement; reload: () => void } {
  const body = h('div', { class: 'orders-body' });
  const el = card('Open orders', body);

  const cancel = async (o: Order, button: HTMLButtonElement): Promise<void> => {
    button.disabled = true;
    try {
      await api<unknown>(`/api/orders/${o.id}`, { method: 'DELETE' });
      toast(`Cancel of order #${o.id} (${o.symbol}) sent`);
      void reload();
    } catch (e) {
      toast(`Cancel #${o.id}: ${errorText(e)}`, 'error');
      button.disabled = false;
    }
  };

  const reload = loadInto(
    body,
    () => api<{ items: Order[]; next: number | null }>(`/api/orders${qs({ target, status: 'open', limit: 100 })}`),
    (page) =>
      table<Order>(
        [
          { label: 'Placed', field: 'time', cell: (o) => h('span', { class: 'muted' }, time(o.created_at)) },
          { label: 'Symbol', field: 'symbol', cell: (o) => h('strong', {}, o.symbol) },
          { label: 'Side', field: 'side', cell: (o) => [badge(o.side), o.position_side ? h('span', { class: 'muted leg' }, ` ${o.position_side} leg`) : null] },
          { label: 'Type', field: 'type', cell: (o) => [o.type, o.reduce_only ? h('span', { class: 'muted' }, ' reduce-only') : null] },
          { label: 'Qty', field: 'qty', className: 'num', cell: (o) => qty(o.qty) },
          { label: 'Price', field: 'price', className: 'num', cell: (o) => price(o.price ?? o.trigger_price) },
          { label: 'Filled', field: 'filled', className: 'num', cell: (o) => qty(o.filled_qty) },
          { label: 'Role', field: 'role', cell: (o) => o.role },
          { label: 'Source', field: 'source', cell: (o) => badge(o.source) },
          { label: 'Status', field: 'status', cell: (o) => badge(o.status) },
          {
            label: '',
            field: 'actions',
            className: 'actions',
            cell: (o) => {
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
    { isEmpty: (page) => page.items.length === 0, empty: 'No open orders on this target: limit orders and brackets waiting on the venue show here.', loading: 'Loading orders…' },
  );
  return { el, reload: () => void reload() };
}
