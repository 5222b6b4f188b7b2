// `npm run db:migrate`: applies the migrations of the host DB_URL names (the
// PostgreSQL files for pglite:/postgres://, the SQL PL files for db2://) and
// prints what it did. With DEMO_DATA=true a new host also gets the demo data.
import { migrate } from '../db/migrate.js';
import { openHost } from '../db/open.js';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { resolveSecret } from './secret.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const host = await openHost(config.dbUrl);
  try {
    const seed = config.demoData && process.env.DEMO_DATA === 'true';
    const pinDigest = seed
      ? createApp({ config, host, secret: (await resolveSecret(config)).secret, logger: createLogger('silent') }).auth.pinDigest
      : undefined;
    const result = await migrate(host, { seedDemoData: pinDigest });
    console.log(`${host.description}: ${result.applied.length ? `applied ${result.applied.join(', ')}` : 'already up to date'}`
      + (result.seeded ? '; demo data seeded' : ''));
  } finally {
    await host.close();
  }
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError ? `configuration error: ${error.message}` : `migration failed: ${error instanceof Error ? error.message : String(error)}`;
  console.error(message);
  process.exit(1);
});
