import type { Page } from '../page.ts';
import { stateView } from '../ui.ts';

/** Placeholder until the page is built. */
export const strategiesPage: Page = {
  id: 'strategies',
  title: 'Strategies & trades',
  render(root) {
    root.append(stateView('empty', 'Coming soon.'));
  },
};
