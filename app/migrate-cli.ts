// `npm run db:migrate`: applies the migrations of the host DB_URL names (the
// PostgreSQL files for pglite:/postgres://, the SQL PL files for db2://) and
// prints what it did. With DEMO_DATA=true a new host also gets the demo data.
// This is the one command that runs DDL: the service itself only checks the
// schema version unless DB_MIGRATE=auto.
import { pinDigesterFor } from '../auth/pin.js';
import { migrate } from '../db/migrate.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { resolveSecrets } from './secret.js';
import { openConfiguredHost } from './open-host.js';

/** DDL may wait on another instance's migration (its marker's lock) and take long on a big host: generous bounds. */
const MIGRATION_TIMEOUT_MS = 10 * 60_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const host = await openConfiguredHost(config.db, createLogger(config.telemetry.logLevel), {
    statementTimeoutMs: MIGRATION_TIMEOUT_MS, lockTimeoutMs: MIGRATION_TIMEOUT_MS, acquireTimeoutMs: 30_000,
  });
  try {
    const seed = config.db.demoDataRequested;
    const pinDigest = seed ? pinDigesterFor((await resolveSecrets(config)).pinPepper, config.auth.pinKdfCost) : undefined;
    const result = await migrate(host, { seedDemoData: pinDigest });
    console.log(`${host.description}: ${result.applied.length ? `applied ${result.applied.join(', ')}` : 'already up to date'}`
      + (result.seeded ? '; demo data seeded' : ''));
  } finally {
    await host.close();
  }
}

main().catch((error: unknown) => {
  const lines = error instanceof ConfigError ? error.lines() : [`migration failed: ${error instanceof Error ? error.message : String(error)}`];
  for (const line of lines) console.error(line);
  process.exit(1);
});
