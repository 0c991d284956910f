// Reads the fenced blocks of README.md and docs/*.md and says what each one is: a shell example to run, a
// signal body to post, a block not run (with its reason), or text. The conventions are described at the top
// of test/docs-examples.test.ts.

/** One fenced block of a Markdown file. */
export interface DocBlock {
  /** File name relative to the repo root, e.g. `docs/signals.md`. */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The language tag (`sh`, `json`, ...), '' when untagged. */
  readonly lang: string;
  /** The first bare word after the language (`example` in signals.md), '' when none. */
  readonly role: string;
  /** `key=value` / `key="value"` attributes of the info string; bare words map to ''. */
  readonly attrs: Readonly<Record<string, string>>;
  /** The block's content without the fences. */
  readonly text: string;
}

/** What the docs test does with a block. */
export type BlockKind =
  /** a shell example: run in the doc's sandbox */
  | 'shell'
  /** a signal webhook body (a json/text `example` or `tradingview-alert` of signals.md): posted to $SECRET's URL */
  | 'body'
  /** marked `norun="reason"`: not run */
  | 'norun'
  /** text, code in another language, output: not run */
  | 'other';

/** Languages whose blocks are shell commands. `console` blocks run their `$ ` lines only. */
export const SHELL_LANGS: ReadonlySet<string> = new Set(['sh', 'bash', 'shell', 'console']);

/** Exchanges a block may name in `exchange=`; each gets its local stub. */
export const STUB_EXCHANGES = ['binance', 'bybit', 'hyperliquid'] as const;

/** The fenced blocks (``` only, at the start of a line) of one Markdown file. */
export function fencedBlocks(file: string, markdown: string): DocBlock[] {
  const blocks: DocBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})(.*)$/.exec(lines[i] ?? '');
    if (!open) continue;
    const fence = open[1] ?? '```';
    const info = (open[2] ?? '').trim();
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !(lines[j] ?? '').startsWith(fence)) body.push(lines[j++] ?? '');
    const [, lang = '', role = ''] = /^(\S*)\s*([A-Za-z][\w-]*(?=\s|$))?/.exec(info) ?? [];
    const attrs: Record<string, string> = {};
    for (const m of info.slice(lang.length).matchAll(/([\w-]+)(?:=("[^"]*"|\S+))?/g)) {
      attrs[m[1] ?? ''] = (m[2] ?? '').replace(/^"(.*)"$/, '$1');
    }
    blocks.push({ file, line: i + 1, lang, role, attrs, text: body.join('\n') });
    i = j;
  }
  return blocks;
}

/** What the docs test does with `block` (see BlockKind). */
export function kindOf(block: DocBlock): BlockKind {
  if (block.attrs.norun !== undefined) return 'norun';
  if (SHELL_LANGS.has(block.lang)) return 'shell';
  if ((block.lang === 'json' || block.lang === 'text') && (block.role === 'example' || block.role === 'tradingview-alert')) return 'body';
  return 'other';
}

/** A line that a reader would type at a shell: `npx …`, `halyard …`, `curl …`, `npm …` (with or without a `$ ` prompt). */
const COMMAND_LINE = /^\s*(\$\s+)?(npx|halyard|curl|npm|node|export|cd|docker|psql)\s/;

/** True when a block that is not run holds something that reads like a command (so it escapes the test by its tag). */
export function looksLikeCommand(block: DocBlock): boolean {
  if (SHELL_LANGS.has(block.lang) || kindOf(block) === 'norun') return false;
  if (!['', 'text', 'txt', 'plain'].includes(block.lang)) return false;
  return block.text.split('\n').some((l) => COMMAND_LINE.test(l));
}

/** A `halyard serve` command line (optionally `npx`, after `VAR=value` assignments), not sent to the background. */
const SERVE_LINE = /^((?:[A-Z_][A-Z0-9_]*=\S+\s+)*)(?:npx\s+)?halyard\s+serve\b([^#&|;]*?)\s*(#.*)?$/;

/** The default address of `halyard serve` that the docs show, rewritten to the sandbox server's. */
const DEFAULT_ADDRESS = /\b(127\.0\.0\.1|localhost):8080\b/g;

/**
 * The bash text that runs a shell block: `console` blocks keep their `$ ` lines only; the default server
 * address becomes `$HALYARD_URL`'s; a `halyard serve` line starts the server in the background on the
 * sandbox's port and waits until it answers (the reader runs it in a terminal of its own).
 */
export function shellScript(block: DocBlock, port: number): string {
  const source =
    block.lang === 'console'
      ? block.text
          .split('\n')
          .filter((l) => l.startsWith('$ '))
          .map((l) => l.slice(2))
          .join('\n')
      : block.text;
  return source
    .split('\n')
    .map((line) => {
      const serve = SERVE_LINE.exec(line);
      if (!serve) return line.replace(DEFAULT_ADDRESS, `127.0.0.1:${port}`);
      const assignments = (serve[1] ?? '').trim();
      return `__halyard_serve ${assignments === '' ? '' : `env ${assignments} `}halyard serve${serve[2] ?? ''}`;
    })
    .join('\n');
}

/** True when a doc's shell blocks start a server themselves (else the runner starts one when they need it). */
export function startsServer(blocks: readonly DocBlock[]): boolean {
  return blocks.some((b) => kindOf(b) === 'shell' && b.text.split('\n').some((l) => SERVE_LINE.test(l)));
}

/** True when a doc's shell or body blocks talk to a server or its store's users (`$TOKEN`, `$HALYARD_URL`, port 8080, alice). */
export function needsServer(blocks: readonly DocBlock[]): boolean {
  return blocks.some((b) => (kindOf(b) === 'shell' || kindOf(b) === 'body') && /\$\{?(TOKEN|HALYARD_URL|SECRET)\b|127\.0\.0\.1:8080|localhost:8080|\balice\b/.test(b.text));
}

/** The stub exchanges a block asks for (`exchange=binance` or `exchange=binance,bybit`). */
export function stubExchanges(block: DocBlock): string[] {
  const names = (block.attrs.exchange ?? '').split(',').filter((x) => x !== '');
  for (const n of names) {
    if (!(STUB_EXCHANGES as readonly string[]).includes(n)) throw new Error(`${block.file}:${block.line}: exchange=${n}: the docs test has stubs for ${STUB_EXCHANGES.join(', ')}`);
  }
  return names;
}
