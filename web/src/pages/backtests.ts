import type { Page } from '../page.ts';
import { stateView } from '../ui.ts';

/** Placeholder until the page is built. */
export const backtestsPage: Page = {
  id: 'backtests',
  title: 'Backtests',
  render(root) {
    root.append(stateView('empty', 'Coming soon.'));
  },
};
