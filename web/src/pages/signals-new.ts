import { api, type Recorder, type Target, type NewRecorder } from '../api.ts';

/** Body of POST /api/recorders, from the server's schema (api.ts does not export it yet). */
import { errorText, h } from '../ui.ts';

/**
 * The "New recorder" form (POST /api/recorders): a name, the position mode and the target its signals
 * trade on (sim:paper needs no keys). `created` receives the new recorder.
 */
export function newRecorderForm(created: (rec: Recorder) => void, cancel?: () => void): HTMLElement {
  const name = h('input', { id: 'recorder-name', name: 'name', maxlength: '100', placeholder: 'BTC trend', autocomplete: 'off', required: true });
  const mode = h(
    'select',
    { id: 'recorder-mode', name: 'position_mode' },
    h('option', { value: 'oneway' }, 'One-way (one position per ticker)'),
    h('option', { value: 'hedge' }, 'Hedge (a long and a short leg per ticker)'),
  );
  /** A recorder with no target only tracks: positions from its signals, no orders anywhere. */
  const trackOnly = (): HTMLOptionElement => h('option', { value: '' }, 'nowhere: track the signals only (no orders)');
  const target = h('select', { id: 'recorder-target', name: 'target' }, h('option', { value: 'sim:paper', selected: true }, 'sim:paper (simulated exchange)'), trackOnly());
  // The other targets come from the API, marked when the user has no keys there yet.
  void api<Target[]>('/api/targets')
    .then((ts) => {
      target.replaceChildren(
        ...ts.map((t) =>
          h('option', { value: t.target, selected: t.target === 'sim:paper' }, `${t.target} (${t.exchange === 'sim' ? 'simulated exchange' : t.has_account ? t.account_type : `${t.account_type}, no keys yet`})`),
        ),
        trackOnly(),
      );
    })
    .catch(() => {
      // sim:paper alone still makes a working recorder.
    });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'create-recorder' }, 'Create recorder');
  const form = h(
    'form',
    { class: 'new-recorder', 'data-testid': 'new-recorder', novalidate: true },
    h(
      'div',
      { class: 'row' },
      h('div', {}, h('label', { for: 'recorder-name' }, 'Name'), name),
      h('div', {}, h('label', { for: 'recorder-mode' }, 'Position mode'), mode),
      h('div', {}, h('label', { for: 'recorder-target' }, 'Trades on'), target),
    ),
    error,
    h('div', { class: 'form-actions' }, submit, cancel ? h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => cancel() }, 'Cancel') : null),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const n = name.value.trim();
    if (!n) {
      error.hidden = false;
      error.textContent = 'Give the recorder a name, e.g. the strategy or alert it receives.';
      name.setAttribute('aria-invalid', 'true');
      name.focus();
      return;
    }
    name.removeAttribute('aria-invalid');
    error.hidden = true;
    submit.disabled = true;
    const body: NewRecorder = { name: n, position_mode: mode.value === 'hedge' ? 'hedge' : 'oneway', targets: target.value === '' ? [] : [{ target: target.value, multiplier: 1 }] };
    api<Recorder>('/api/recorders', { method: 'POST', body })
      .then(created)
      .catch((e: unknown) => {
        error.hidden = false;
        error.textContent = errorText(e);
      })
      .finally(() => (submit.disabled = false));
  });
  return form;
}
