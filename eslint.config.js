// Lint: typescript-eslint's recommended rules, plus the layering README.md's
// "How it is built" describes: contract/ imports no other layer; db/ only
// contract/; auth/ only db/ and contract/; routes/ never app/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layer = (files, forbidden) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', {
      patterns: forbidden.map((folder) => ({ group: [`**/${folder}/*`], message: `layering (README.md, "How it is built"): this layer may not import ${folder}/` })),
    }],
  },
});

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  // Plain JavaScript run by node before anything is compiled (scripts/start.mjs, scripts/build.mjs).
  { files: ['**/*.mjs'], languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly' } } },
  layer(['contract/**/*.ts'], ['app', 'auth', 'routes', 'db']),
  layer(['db/**/*.ts'], ['app', 'auth', 'routes']),
  layer(['auth/**/*.ts'], ['app', 'routes']),
  layer(['routes/**/*.ts'], ['app']),
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'scripts/**/*.mjs', 'app/migrate-cli.ts', 'db/pg/template-cli.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', 'no-console': 'off' },
  },
);
