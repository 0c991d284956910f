import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'output/', 'data/', 'coverage/', 'test-results/', 'dist/', 'web/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Named exports only (strategies/ may default-export their class).' }],
    },
  },
  { files: ['strategies/**/*.ts'], rules: { 'no-restricted-syntax': 'off' } },
  { files: ['bin/**/*.js', '*.js'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
  {
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/**/*.test.ts'],
    rules: {
      'no-restricted-globals': ['error', { name: 'Date', message: 'core never reads the wall clock: take time from a Clock.' }],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'core takes randomness from a seeded generator.' }, { object: 'Date', property: 'now', message: 'core never reads the wall clock.' }],
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', 'fs', 'path', 'http', '../*/**', '!./*'], message: 'core does no I/O and imports nothing of ours outside core.' }] }],
    },
  },
);
