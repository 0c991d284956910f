import type { Page } from '../page.ts';
import { stateView } from '../ui.ts';

/** Placeholder until the page is built. */
export const signalsPage: Page = {
  id: 'signals',
  title: 'Signals',
  render(root) {
    root.append(stateView('empty', 'Coming soon.'));
  },
};
