// Lint: typescript-eslint's recommended rules, plus the layering of DESIGN.md
// (db/ imports nothing above it; auth/ only db/; routes/ never app/).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layer = (files, forbidden) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', {
      patterns: forbidden.map((folder) => ({ group: [`**/${folder}/*`], message: `DESIGN.md: this layer may not import ${folder}/` })),
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
  layer(['db/**/*.ts'], ['app', 'auth', 'routes']),
  layer(['auth/**/*.ts'], ['app', 'routes']),
  layer(['routes/**/*.ts'], ['app']),
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'app/migrate-cli.ts', 'db/pg/template-cli.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', 'no-console': 'off' },
  },
);
