import type { Page } from '../page.ts';
import { stateView } from '../ui.ts';

/** Placeholder until the page is built. */
export const equityPage: Page = {
  id: 'equity',
  title: 'Equity',
  render(root) {
    root.append(stateView('empty', 'Coming soon.'));
  },
};
