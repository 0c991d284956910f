/**
 * A user name as `halyard users add` takes it: 1-64 letters, digits or _.@-, starting with a letter or
 * digit. The store checks new users with it; a run's `--owner` (run.json) must be such a name too.
 */
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;
