import { expect } from 'vitest';
import { isHalyardError } from '../../core/errors.ts';

/** Test-only: runs `fn`, expects an `invalid_input` HalyardError in one sentence, and returns its message. */
export function invalidInput(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(isHalyardError(e, 'invalid_input')).toBe(true);
    const message = (e as Error).message;
    // One sentence: it ends with a full stop and has no other sentence break.
    expect(message.endsWith('.') && message.split(/\.\s/).length === 1, message).toBe(true);
    return message;
  }
  throw new Error('expected an invalid_input HalyardError');
}
