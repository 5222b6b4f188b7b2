// Lint for the client kit: the repository's rules (../eslint.config.js; ESLint
// reads the nearest config, so this one applies under client/), its build
// output and generated types left alone, and its one boundary: src/ and demo/
// run in browsers as well as on Node, so they import neither the server's code
// nor Node's built-ins.
import repository from '../eslint.config.js';

export default [
  { ignores: ['dist/', 'src/api-types.ts'] },
  ...repository,
  {
    files: ['src/**/*.ts', 'demo/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*'], message: 'The client runs in browsers too: WebCrypto and fetch only.' },
          { group: ['**/../app/*', '**/../auth/*', '**/../db/*', '**/../routes/*', '**/../test/*'], message: 'The client depends on the served contract only, never on the server\u2019s code.' },
        ],
      }],
    },
  },
  { files: ['scripts/**/*.ts'], rules: { 'no-console': 'off' } },
];
