-- The migration ledger: one row per applied script of db/db2/migrations.
-- Run once, before the first script, in the application's schema (README,
-- "Db2: deploying the schema"); `npm run db:migrate` creates it when missing.
-- deploy.sh creates it when the catalog lacks it; the comment after the
-- column list is its placement marker (deploy.sh --in).
CREATE TABLE SCHEMA_MIGRATION (
  VERSION    VARCHAR(100) NOT NULL PRIMARY KEY,
  APPLIED_AT TIMESTAMP    NOT NULL DEFAULT CURRENT TIMESTAMP
) /* @IN */
@
