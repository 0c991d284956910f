import type { Recorder } from '../api.ts';
import { copyText, h, toast } from '../ui.ts';

/** One example body: a tab label, what it is for, and the text to paste. */
interface Example {
  readonly id: string;
  readonly label: string;
  readonly note: string;
  readonly text: string;
}

/** JSON on several lines, as an alert message box shows it best. */
function pretty(body: Record<string, unknown>): string {
  return JSON.stringify(body, null, 2);
}

/** Shell-quotes a string in single quotes. */
function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The example bodies for `rec` (the formats of docs/signals.md; hedge recorders name the leg). */
function examples(rec: Recorder): Example[] {
  const hedge = rec.position_mode === 'hedge';
  const leg = hedge ? { position_side: 'long' } : {};
  const native = { ticker: 'BTCUSDT', action: 'buy', quantity: '0.01', price: '65000', ...leg, stop_loss: '63000', take_profit: '70000' };
  const curlBody = JSON.stringify({ ticker: 'BTCUSDT', action: 'buy', quantity: 0.01, price: 65000, ...leg });
  return [
    {
      id: 'tradingview',
      label: 'TradingView',
      note: "In a strategy's alert: Webhook URL = this recorder's URL, Message = the body below. TradingView fills the {{…}} placeholders when the alert fires; position_size keeps the position right even after a missed alert.",
      text: pretty({
        ticker: '{{ticker}}',
        action: '{{strategy.order.action}}',
        contracts: '{{strategy.order.contracts}}',
        price: '{{close}}',
        position_size: '{{strategy.position_size}}',
        ...(hedge ? { position_side: 'long' } : {}),
        time: '{{timenow}}',
      }),
    },
    {
      id: 'json',
      label: 'Plain JSON',
      note: `Any sender: ticker and action (buy, sell, close, add, cancel), optional quantity, price, stop_loss, take_profit${hedge ? ', position_side (long or short leg)' : ''}, time.`,
      text: pretty(native),
    },
    {
      id: 'traderspost',
      label: 'TradersPost',
      note: "TradersPost's TradingView template works unchanged; sentiment flat closes the position.",
      text: pretty({ ticker: '{{ticker}}', action: '{{strategy.order.action}}', sentiment: '{{strategy.market_position}}', quantity: '{{strategy.order.contracts}}', price: '{{close}}' }),
    },
    {
      id: 'curl',
      label: 'curl',
      note: 'Try the URL from a shell before relying on an alert: the answer says accepted, duplicate or rejected with the reason. This signal really moves the recorder’s positions.',
      text: `curl -X POST ${sq(rec.webhook_url)} \\\n  -H 'Content-Type: application/json' \\\n  --data ${sq(curlBody)}`,
    },
  ];
}

/** Tabs of example bodies to paste into TradingView or send with curl, each with a copy button. */
export function formatExamples(rec: Recorder): HTMLElement {
  const list = examples(rec);
  const tabs = h('div', { class: 'format-tabs', role: 'tablist', 'aria-label': 'Signal formats' });
  const panels = h('div', { class: 'format-panels' });
  const select = (id: string): void => {
    for (const b of tabs.querySelectorAll<HTMLButtonElement>('button')) b.setAttribute('aria-selected', String(b.dataset.format === id));
    for (const p of panels.querySelectorAll<HTMLElement>('[role=tabpanel]')) p.hidden = p.dataset.format !== id;
  };
  for (const ex of list) {
    tabs.append(h('button', { type: 'button', role: 'tab', class: 'format-tab', 'data-format': ex.id, id: `format-tab-${ex.id}`, 'aria-controls': `format-${ex.id}`, onclick: () => select(ex.id) }, ex.label));
    const copy = h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'copy-example' }, 'Copy');
    copy.addEventListener('click', () => {
      void copyText(ex.text).then(() => toast(`${ex.label} example copied`));
    });
    panels.append(
      h(
        'div',
        { role: 'tabpanel', id: `format-${ex.id}`, 'data-format': ex.id, 'aria-labelledby': `format-tab-${ex.id}`, class: 'format-panel' },
        h('div', { class: 'format-head' }, h('p', { class: 'muted format-note' }, ex.note), copy),
        h('pre', { class: 'format-code' }, ex.text),
      ),
    );
  }
  select('tradingview');
  return h(
    'div',
    { class: 'format-examples', 'data-testid': 'format-examples' },
    tabs,
    panels,
    h(
      'p',
      { class: 'muted format-foot' },
      'Quote every value ("price":"{{close}}"). Also accepted: 3Commas and OKX signal-bot JSON, PineConnector text and form fields — every format is described in docs/signals.md.',
    ),
  );
}
