import type { Page } from '../page.ts';
import { stateView } from '../ui.ts';

/** Placeholder until the page is built. */
export const terminalPage: Page = {
  id: 'terminal',
  title: 'Terminal',
  render(root) {
    root.append(stateView('empty', 'Coming soon.'));
  },
};
