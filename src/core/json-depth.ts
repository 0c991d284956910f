/**
 * Deepest nesting of arrays and objects a JSON body may have. The deepest documented body (a TradersPost
 * stop-loss inside a signal, an engine event's `data.entries[]`) needs 3; 32 leaves room for any sender.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * True when JSON text nests arrays and objects deeper than `limit`, counted on the raw text outside strings
 * (escapes included) before anything parses it: one pass, no allocation, stops at the first level too many.
 * Invalid JSON is not this function's business; the parser that runs afterwards says what is wrong.
 */
export function jsonTooDeep(text: string, limit: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character, a quote included
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** The sentence a too-deep body is refused with. */
export function tooDeepMessage(limit: number = MAX_JSON_DEPTH): string {
  return `the JSON body nests arrays or objects more than ${limit} levels deep; send a flat object as documented`;
}
