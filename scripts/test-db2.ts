// `npm run test:db2`: the HTTP and host suites against a real Db2 named by
// TEST_DB2_URL (db2://user:pass@host:port/db?schema=...). Without it, says so
// and exits 0: no Db2 is reachable from CI.
import { spawnSync } from 'node:child_process';

if (!process.env.TEST_DB2_URL) {
  console.log('test:db2 skipped: set TEST_DB2_URL=db2://user:pass@host:50000/DB?schema=APITEST to run the suites against a real Db2 (README, "Db2").');
  process.exit(0);
}
const result = spawnSync('npx', ['mocha', 'test/http/**/*.test.ts', 'test/host/**/*.test.ts'], {
  stdio: 'inherit', env: { ...process.env, TEST_HOST: 'db2' },
});
process.exit(result.status ?? 1);
