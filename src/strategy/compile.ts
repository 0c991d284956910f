import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { isBuiltin } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Message, Plugin } from 'esbuild';
import { HalyardError } from '../core/errors.ts';

// This module runs from the build: dist/chunks/<chunk>.js, two levels under the repo like src/<dir>/<file>.ts.
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(REPO, 'src') + sep;
const DIST = join(REPO, 'dist');
const CACHE = join(tmpdir(), 'halyard', 'strategies');

/** What a compiled strategy was made from: each input file's hash, and the module written. */
interface Manifest {
  readonly inputs: Readonly<Record<string, string>>;
  readonly output: string;
}

const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex').slice(0, 32);

/** Writes a file whole or not at all (a concurrent run of the same strategy reads one or the other). */
function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** The compiled module of a manifest whose inputs are all unchanged, or undefined. */
function cached(manifestFile: string): string | undefined {
  try {
    const m = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    for (const [file, hash] of Object.entries(m.inputs)) if (sha(readFileSync(file)) !== hash) return undefined;
    return existsSync(m.output) ? m.output : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Imports of the repo's sources become imports of the build (src/strategy/index.ts → dist/strategy/index.js),
 * so a strategy extends the very Strategy class the CLI runs; packages resolve from the strategy's folder to
 * absolute URLs, since the compiled module lives in the cache folder.
 */
const toBuild: Plugin = {
  name: 'halyard-src-to-dist',
  setup(build) {
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.kind === 'entry-point' || args.pluginData === 'inner') return undefined;
      if (isBuiltin(args.path)) return { path: args.path, external: true };
      const spec = args.path.startsWith('file:') ? fileURLToPath(args.path) : args.path;
      // A path into src/ maps to the build by its name alone: an installed image has the build, not the sources.
      if (spec.startsWith('.') || spec.startsWith(sep)) {
        const target = resolve(args.resolveDir, spec);
        const built = join(DIST, relative(SRC, target)).replace(/\.[cm]?tsx?$/, '.js');
        if (target.startsWith(SRC) && existsSync(built)) return { path: pathToFileURL(built).href, external: true };
      }
      const found = await build.resolve(spec, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'inner' });
      if (found.errors.length > 0) return { errors: found.errors };
      if (found.path.startsWith(SRC)) {
        const built = join(DIST, relative(SRC, found.path)).replace(/\.[cm]?tsx?$/, '.js');
        // A module that is not an entry point of the build is bundled from the sources.
        return existsSync(built) ? { path: pathToFileURL(built).href, external: true } : found;
      }
      if (found.path.includes(`${sep}node_modules${sep}`)) return { path: pathToFileURL(found.path).href, external: true };
      return found;
    });
  },
};

/** One sentence naming the file and line of the first compile error. */
function compileError(file: string, abs: string, errors: readonly Message[], cause: unknown): HalyardError {
  const first = errors[0];
  const at = first?.location ? resolve(first.location.file) : abs;
  // The strategy as the command line named it; a file it imports, relative to here when under here.
  const name = at === abs ? file : relative(process.cwd(), at).startsWith('..') ? at : relative(process.cwd(), at);
  const where = first?.location ? `${name}:${first.location.line}:${first.location.column + 1}` : name;
  return new HalyardError('strategy_error', `cannot compile ${where}: ${first?.text ?? String(cause)}`, { file }, cause);
}

/**
 * Compiles a TypeScript strategy (and its own relative imports) to one ES module in the cache folder
 * (os.tmpdir()/halyard/strategies), reused while none of its inputs changed; returns the module's URL.
 * Stack traces name the TypeScript lines (an inline source map, read once source maps are enabled).
 */
export async function compileStrategy(file: string, abs: string): Promise<string> {
  mkdirSync(CACHE, { recursive: true, mode: 0o700 });
  const manifestFile = join(CACHE, `${sha(`${abs}\n${readFileSync(join(DIST, 'build.json'), 'utf8')}`)}.json`);
  process.setSourceMapsEnabled(true);
  const hit = cached(manifestFile);
  if (hit) return pathToFileURL(hit).href;
  const { build } = await import('esbuild');
  let result: Awaited<ReturnType<typeof build<{ write: false; metafile: true }>>>;
  try {
    result = await build({
      entryPoints: [abs],
      absWorkingDir: process.cwd(),
      outfile: join(CACHE, 'strategy.mjs'),
      write: false,
      metafile: true,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'inline',
      sourcesContent: false,
      logLevel: 'silent',
      plugins: [toBuild],
    });
  } catch (e) {
    throw compileError(file, abs, (e as { errors?: Message[] }).errors ?? [], e);
  }
  const code = result.outputFiles.find((f) => f.path.endsWith('.mjs'))?.text ?? '';
  const output = join(CACHE, `${sha(code)}.mjs`);
  writeAtomic(output, code);
  const inputs: Record<string, string> = {};
  for (const input of Object.keys(result.metafile.inputs)) {
    const path = resolve(process.cwd(), input);
    inputs[path] = sha(readFileSync(path));
  }
  writeAtomic(manifestFile, JSON.stringify({ inputs, output } satisfies Manifest));
  return pathToFileURL(output).href;
}
