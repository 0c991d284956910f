// Docs that run: every shell example in README.md and docs/*.md is executed, so an example that stops
// working fails CI.
//
// Conventions for a fenced block (its info string is the language, then optional words and key=value):
// - ```sh (also bash, shell) is run; ```console runs its `$ ` lines only. Everything else (text, json, ts,
//   ini, python, output...) is not run. A ```text or untagged block that reads like a command (`npx`,
//   `halyard`, `curl`, `npm` ... at a line start) fails the test: nothing escapes by its tag.
// - Each doc file gets one fresh sandbox: a temp working directory (with the checkout's `strategies/` and
//   `../shared`), its own SQLite store, candle cache and output (DATABASE_PATH, CACHE_PATH, OUTPUT_PATH
//   under it), `halyard` and `npx halyard` running this checkout. Blocks run in document order, each in
//   `bash` with `set -euo pipefail` and a time limit (60 s, or `timeout=<s>`); the shell variables a block
//   sets (`TOKEN=$(halyard users add alice --json | jq -r .token)`) are set in the blocks after it.
//   `curl` fails a block on an HTTP error status (the answer is still shown). ENCRYPTION_KEY is set (the
//   examples that store a credential say they need it).
// - A `halyard serve` line (not sent to the background by the doc) is what a reader runs in a terminal of
//   its own: the test starts it in the background on a free port, waits until it answers, and stops it at
//   the next `serve` line or at the end of the doc. `http://127.0.0.1:8080` in a block means that server;
//   `$HALYARD_URL` holds its address too. A doc that never starts a server but talks to one (`$TOKEN`,
//   `$HALYARD_URL`, `127.0.0.1:8080`, `alice`) gets `halyard serve` and user alice, her token in `$TOKEN`,
//   before its first block; its text says so ("with a server running and an API token in `$TOKEN`").
// - `exchange=binance` (or bybit, hyperliquid; comma-separated) runs a block with
//   HALYARD_EXCHANGE_URL_<EXCHANGE> pointing at the local stub of that exchange (test/stubs; 1m candles
//   2024-01-01 .. 2024-07-19).
// - `keeps-running` (or `keeps-running=<s>`): a command that runs until stopped (a live paper run): it runs
//   8 s (or <s>), then is stopped; it passes when it has not failed by then. With `expect=` it is stopped 2 s
//   after it printed the text (or after 60 s, failing), so a loaded machine's slow start does not fail it.
// - `expect="text"`: the block's output (stdout and stderr) must contain the text.
// - `norun="reason"`: not run, for the reason given (the install step; an external account). Keep rare.
// - A ```json or ```text block tagged `example` or `tradingview-alert` (docs/signals.md) is a signal body:
//   it is posted to the recorder URL in `$HOOK` and must be accepted (200), or refused (400) with its
//   `reason=` (an unfilled `tradingview-alert` template: "holds an unexpanded placeholder").
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fencedBlocks, kindOf, looksLikeCommand, needsServer, startsServer, type DocBlock } from './docs-blocks.ts';
import { DocSandbox, REPO } from './docs-runner.ts';

const FILES = ['README.md', ...readdirSync(join(REPO, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const DOCS = FILES.map((file) => ({ file, blocks: fencedBlocks(file, readFileSync(join(REPO, file), 'utf8')) }));

/** What a doc that talks to a server without starting one gets first. */
const IMPLICIT_SETUP = 'npx halyard serve\nTOKEN=$(npx halyard users add alice --json | jq -r .token)';

describe('docs: every fenced block is tagged for what it is', () => {
  it('finds the docs and their shell examples', () => {
    expect(FILES).toContain('README.md');
    expect(DOCS.flatMap((d) => d.blocks).filter((b) => kindOf(b) === 'shell').length).toBeGreaterThan(10);
  });

  it('has no command in a block that is not run, and a reason on every block marked norun', () => {
    const escaped = DOCS.flatMap((d) => d.blocks).filter(looksLikeCommand).map((b) => `${b.file}:${b.line}`);
    expect(escaped, 'commands in ```text or untagged blocks: tag them ```sh (or norun="why")').toEqual([]);
    const unexplained = DOCS.flatMap((d) => d.blocks).filter((b) => kindOf(b) === 'norun' && (b.attrs.norun ?? '').length < 10);
    expect(unexplained.map((b) => `${b.file}:${b.line}`), 'norun needs a reason').toEqual([]);
  });

  it('has jq for the examples that read JSON answers', () => {
    expect(spawnSync('jq', ['--version']).status, 'the docs examples use jq: apt-get install jq').toBe(0);
  });
});

for (const { file, blocks } of DOCS) {
  const runnable = blocks.filter((b) => kindOf(b) === 'shell' || kindOf(b) === 'body');
  if (runnable.length === 0) continue;

  // Each doc has its own sandbox (store, port, stubs): two docs run side by side (maxConcurrency in
  // vitest.config.ts), while the blocks of one doc run in order (it.sequential).
  describe(`${file} runs`, { concurrent: true }, () => {
    let sandbox: DocSandbox;
    let broken: string | undefined;

    beforeAll(async () => {
      sandbox = await DocSandbox.create(file);
      if (needsServer(runnable) && !startsServer(runnable)) {
        const setup: DocBlock = { file, line: 0, lang: 'sh', role: '', attrs: {}, text: IMPLICIT_SETUP };
        const r = await sandbox.run(setup);
        if (r.code !== 0) broken = `the implicit setup (serve, users add alice) failed: ${r.output}\n${sandbox.serveLog()}`;
      }
    }, 90_000);
    afterAll(async () => sandbox.close(), 60_000);

    for (const block of runnable) {
      it.sequential(`${file}:${block.line} ${block.lang} ${block.text.split('\n')[0]?.slice(0, 60) ?? ''}`, async ({ expect }) => {
        // Blocks build on each other: after the first failure the rest of the doc would fail for its reason.
        expect(broken, 'an earlier block of this doc failed').toBeUndefined();
        const r = await sandbox.run(block);
        const ended = block.attrs['keeps-running'] !== undefined ? r.timedOut || r.code === 0 : !r.timedOut && r.code === 0;
        const ok = ended && r.output.includes(block.attrs.expect ?? '');
        if (!ok) broken = `${file}:${block.line}`;
        const why = !ended ? (r.timedOut ? 'ran past its time limit' : `exited ${String(r.code)}`) : `printed no "${block.attrs.expect ?? ''}"`;
        expect(ok, `${file}:${block.line} ${why}:\n${r.output}\n--- halyard serve log (tail):\n${sandbox.serveLog()}`).toBe(true);
      }, 300_000);
    }
  });
}
