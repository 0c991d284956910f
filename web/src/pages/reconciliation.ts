import type { Page } from '../page.ts';
import { stateView } from '../ui.ts';

/** Placeholder until the page is built. */
export const reconciliationPage: Page = {
  id: 'reconciliation',
  title: 'Reconciliation',
  render(root) {
    root.append(stateView('empty', 'Coming soon.'));
  },
};
