import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The dashboard: built into web/dist, served by `halyard serve` at `/`. */
export const config = defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 800 },
  logLevel: 'warn',
});
// Vite loads the default export of its config file.
// eslint-disable-next-line no-restricted-syntax
export default config;
