import { HalyardError } from '../core/errors.ts';

/** Longest constraint text read (characters) and deepest nesting of parentheses and signs. */
const MAX_LENGTH = 500;
const MAX_DEPTH = 32;

/** A parsed expression: a number, a parameter, a sign change or an arithmetic operation. */
type Expr =
  | { readonly kind: 'num'; readonly value: number }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'neg'; readonly arg: Expr }
  | { readonly kind: 'bin'; readonly op: '+' | '-' | '*' | '/'; readonly left: Expr; readonly right: Expr };

/** A comparison operator of a constraint. */
export type Comparison = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** A constraint between parameters, e.g. `fast < slow` or `slow >= 2 * fast`, parsed and checked. */
export interface Constraint {
  /** The text as given (trimmed). */
  readonly text: string;
  /** Parameter names it reads. */
  readonly names: readonly string[];
  /** True when the parameter values satisfy it. */
  test(values: Readonly<Record<string, unknown>>): boolean;
}

type Token = { readonly t: 'num'; readonly v: number; readonly at: number } | { readonly t: 'id' | 'op'; readonly v: string; readonly at: number };

const OPS = ['<=', '>=', '==', '!=', '<', '>', '+', '-', '*', '/', '(', ')', '×', '÷', '−'];

function fail(text: string, why: string): HalyardError {
  return new HalyardError('invalid_input', `--constraint "${text}": ${why} (write a comparison such as "fast < slow" or "slow >= 2 * fast")`, { constraint: text });
}

/** Splits a constraint into numbers, names and operators; anything else is refused where it stands. */
function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const num = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (num) {
      out.push({ t: 'num', v: Number(num[0]), at: i });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (id) {
      out.push({ t: 'id', v: id[0], at: i });
      i += id[0].length;
      continue;
    }
    const op = OPS.find((o) => text.startsWith(o, i));
    if (op === undefined) throw fail(text, `unexpected "${ch}" at character ${i + 1}`);
    // The typographic signs read as their ASCII forms.
    out.push({ t: 'op', v: op === '×' ? '*' : op === '÷' ? '/' : op === '−' ? '-' : op, at: i });
    i += op.length;
  }
  return out;
}

/**
 * Recursive descent over: comparison := sum op sum; sum := product (('+'|'-') product)*;
 * product := unary (('*'|'/') unary)*; unary := '-' unary | primary; primary := number | name | '(' sum ')'.
 */
class Parser {
  private k = 0;
  private depth = 0;
  readonly names = new Set<string>();

  constructor(
    private readonly text: string,
    private readonly tokens: readonly Token[],
  ) {}

  comparison(): { op: Comparison; left: Expr; right: Expr } {
    const left = this.sum();
    const tok = this.tokens[this.k];
    if (tok === undefined || tok.t !== 'op' || !['<', '<=', '>', '>=', '==', '!='].includes(tok.v)) {
      throw fail(this.text, tok === undefined ? 'it has no comparison (< <= > >= == !=)' : `expected a comparison at character ${tok.at + 1}`);
    }
    this.k++;
    const right = this.sum();
    const rest = this.tokens[this.k];
    if (rest !== undefined) throw fail(this.text, `unexpected "${String(rest.v)}" at character ${rest.at + 1} (one comparison per --constraint)`);
    return { op: tok.v as Comparison, left, right };
  }

  private peekOp(ops: readonly string[]): string | undefined {
    const tok = this.tokens[this.k];
    return tok !== undefined && tok.t === 'op' && ops.includes(tok.v) ? tok.v : undefined;
  }

  private sum(): Expr {
    let left = this.product();
    for (let op = this.peekOp(['+', '-']); op !== undefined; op = this.peekOp(['+', '-'])) {
      this.k++;
      left = { kind: 'bin', op: op as '+' | '-', left, right: this.product() };
    }
    return left;
  }

  private product(): Expr {
    let left = this.unary();
    for (let op = this.peekOp(['*', '/']); op !== undefined; op = this.peekOp(['*', '/'])) {
      this.k++;
      left = { kind: 'bin', op: op as '*' | '/', left, right: this.unary() };
    }
    return left;
  }

  private unary(): Expr {
    if (++this.depth > MAX_DEPTH) throw fail(this.text, `it nests deeper than ${MAX_DEPTH} levels`);
    try {
      if (this.peekOp(['-']) !== undefined) {
        this.k++;
        return { kind: 'neg', arg: this.unary() };
      }
      return this.primary();
    } finally {
      this.depth--;
    }
  }

  private primary(): Expr {
    const tok = this.tokens[this.k];
    if (tok === undefined) throw fail(this.text, 'it ends where a number or a parameter was expected');
    this.k++;
    if (tok.t === 'num') return { kind: 'num', value: tok.v };
    if (tok.t === 'id') {
      this.names.add(tok.v);
      return { kind: 'param', name: tok.v };
    }
    if (tok.v === '(') {
      const inner = this.sum();
      if (this.peekOp([')']) === undefined) throw fail(this.text, 'a "(" is not closed');
      this.k++;
      return inner;
    }
    throw fail(this.text, `unexpected "${tok.v}" at character ${tok.at + 1}`);
  }
}

function evaluate(e: Expr, values: Readonly<Record<string, unknown>>): number {
  switch (e.kind) {
    case 'num':
      return e.value;
    case 'param':
      return values[e.name] as number;
    case 'neg':
      return -evaluate(e.arg, values);
    case 'bin': {
      const a = evaluate(e.left, values);
      const b = evaluate(e.right, values);
      return e.op === '+' ? a + b : e.op === '-' ? a - b : e.op === '*' ? a * b : a / b;
    }
  }
}

function compare(op: Comparison, a: number, b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '==':
      return a === b;
    case '!=':
      return a !== b;
  }
}

/**
 * Parses a constraint (one comparison of arithmetic over parameter names and numbers; `×` `÷` `−` read
 * as `*` `/` `-`) with a small recursive-descent parser: nothing is ever evaluated as code. `numeric`
 * names the parameters it may read (the strategy's number parameters): any other name is refused.
 */
export function parseConstraint(text: string, numeric: readonly string[]): Constraint {
  const trimmed = text.trim();
  if (trimmed.length > MAX_LENGTH) throw fail(trimmed.slice(0, 40) + '…', `it is longer than ${MAX_LENGTH} characters`);
  if (trimmed === '') throw fail(trimmed, 'it is empty');
  const parser = new Parser(trimmed, tokenize(trimmed));
  const { op, left, right } = parser.comparison();
  for (const name of parser.names) {
    if (!numeric.includes(name)) throw fail(trimmed, `"${name}" is not a number parameter of this strategy (it takes: ${numeric.join(', ') || 'none'})`);
  }
  return { text: trimmed, names: [...parser.names], test: (values) => compare(op, evaluate(left, values), evaluate(right, values)) };
}

/** True when `values` satisfy every constraint. */
export function satisfiesAll(constraints: readonly Constraint[], values: Readonly<Record<string, unknown>>): boolean {
  for (const c of constraints) if (!c.test(values)) return false;
  return true;
}
