-- Tables of the host beside SAMPLE's: customers, accounts and the ledger,
-- login credentials and failure counters, host sessions (the scratch pad),
-- transfers and each customer's day of them, and the audit trail.
-- Twins of the PostgreSQL schema (db/pg/migrations/001_baseline.sql). Timestamps
-- are UTC by this schema's convention (the API passes every clock value).
-- No column is named with a Db2 for z/OS reserved word (AT, ROLE, DAY,
-- SCRATCHPAD...): test/host/db2-scripts.test.ts checks every identifier.

CREATE TABLE CUSTOMER (
  CUSTOMER_ID VARCHAR(12) NOT NULL PRIMARY KEY,
  NAME        VARCHAR(60) NOT NULL,
  BANK_ID     VARCHAR(11) NOT NULL,
  ACCESS_ROLE VARCHAR(8)  NOT NULL CHECK (ACCESS_ROLE IN ('customer', 'staff'))
) /* @IN */
@
CREATE TABLE ACCOUNT (
  ACCOUNT_ID  VARCHAR(20)   NOT NULL PRIMARY KEY,
  CUSTOMER_ID VARCHAR(12)   NOT NULL REFERENCES CUSTOMER (CUSTOMER_ID),
  BANK_ID     VARCHAR(11)   NOT NULL,
  KIND        VARCHAR(10)   NOT NULL,
  CURRENCY    CHAR(3)       NOT NULL,
  BALANCE     DECIMAL(15,2) NOT NULL CHECK (BALANCE >= 0)
) /* @IN */
@
CREATE INDEX ACCOUNT_CUSTOMER ON ACCOUNT (CUSTOMER_ID)
@
-- One row per account that can log in; the digest is computed on the API
-- tier (scrypt), the host only compares it.
CREATE TABLE CREDENTIAL (
  ACCOUNT_ID  VARCHAR(20) NOT NULL PRIMARY KEY REFERENCES ACCOUNT (ACCOUNT_ID),
  CUSTOMER_ID VARCHAR(12) NOT NULL REFERENCES CUSTOMER (CUSTOMER_ID),
  PIN_DIGEST  VARCHAR(64) NOT NULL
) /* @IN */
@
-- Consecutive failed logins per account number tried, known or not (an
-- unknown number locks exactly like a real one), and per device bucket: the
-- thumbprint of a known device of the account, or '*' for every other client.
-- A row is locked by each attempt before its PIN is compared
-- (LOGIN_GUARD_ACQUIRE), so it exists from then on: LAST_FAILURE_AT is NULL
-- until its first failure.
CREATE TABLE LOGIN_GUARD (
  ACCOUNT_ID      VARCHAR(20) NOT NULL,
  DEVICE_BUCKET   VARCHAR(43) NOT NULL,
  FAILURES        SMALLINT    NOT NULL,
  LOCKED_UNTIL    TIMESTAMP,
  LAST_FAILURE_AT TIMESTAMP,
  PRIMARY KEY (ACCOUNT_ID, DEVICE_BUCKET)
) /* @IN */
@
-- Device keys (RFC 7638 thumbprints) that completed a login on an account:
-- each has a failure bucket of its own, so strangers cannot lock it out.
CREATE TABLE KNOWN_DEVICE (
  ACCOUNT_ID     VARCHAR(20) NOT NULL,
  JKT            CHAR(43)    NOT NULL,
  FIRST_LOGIN_AT TIMESTAMP   NOT NULL,
  LAST_LOGIN_AT  TIMESTAMP   NOT NULL,
  PRIMARY KEY (ACCOUNT_ID, JKT)
) /* @IN */
@
-- The session "scratch pad area": one row per live session, keyed by the
-- UUID the API generated. Deleting the row kills every token naming it.
-- Row size: up to about 4.4 KB (the 4096-byte scratch pad). LUW: fits a 4 KiB
-- page only with EXTENDED_ROW_SZ enabled (the default since 10.5); otherwise
-- add "IN <table space with 8 KiB pages>". z/OS: an implicitly created table
-- space gets a buffer pool large enough (TBSBP8K); an explicit one needs an
-- 8 KiB buffer pool (BP8K0 or larger). README, "Db2".
CREATE TABLE HOST_SESSION (
  SESSION_ID          CHAR(36)      NOT NULL PRIMARY KEY,
  SESSION_HASH        CHAR(16)      NOT NULL,
  CUSTOMER_ID         VARCHAR(12)   NOT NULL REFERENCES CUSTOMER (CUSTOMER_ID),
  ACCOUNT_ID          VARCHAR(20)   NOT NULL,
  BANK_ID             VARCHAR(11)   NOT NULL,
  ACCESS_ROLE         VARCHAR(8)    NOT NULL,
  DEVICE              VARCHAR(64),
  JKT                 CHAR(43),
  CREATED_AT          TIMESTAMP     NOT NULL,
  LAST_SEEN_AT        TIMESTAMP     NOT NULL,
  IDLE_EXPIRES_AT     TIMESTAMP     NOT NULL,
  ABSOLUTE_EXPIRES_AT TIMESTAMP     NOT NULL,
  SCRATCH_PAD         VARCHAR(4096) NOT NULL DEFAULT '{}'
) /* @IN */
@
CREATE INDEX HOST_SESSION_CUSTOMER ON HOST_SESSION (CUSTOMER_ID)
@
CREATE INDEX HOST_SESSION_IDLE ON HOST_SESSION (IDLE_EXPIRES_AT)
@
CREATE TABLE TRANSFER (
  CUSTOMER_ID     VARCHAR(12)   NOT NULL,
  IDEMPOTENCY_KEY VARCHAR(64)   NOT NULL,
  REQUEST_DIGEST  CHAR(64)      NOT NULL,
  TRANSFER_ID     CHAR(36)      NOT NULL,
  FROM_ACCOUNT    VARCHAR(20)   NOT NULL,
  TO_ACCOUNT      VARCHAR(20)   NOT NULL,
  AMOUNT          DECIMAL(15,2) NOT NULL,
  CURRENCY        CHAR(3)       NOT NULL,
  REFERENCE       VARCHAR(140),
  BOOKED_AT       TIMESTAMP     NOT NULL,
  PRIMARY KEY (CUSTOMER_ID, IDEMPOTENCY_KEY)
) /* @IN */
@
CREATE UNIQUE INDEX TRANSFER_ID ON TRANSFER (TRANSFER_ID)
@
-- One row per customer and UTC day with transfers: velocity limits and failed
-- payee checks, locked first by TRANSFER so the limits hold under any race.
CREATE TABLE TRANSFER_DAY (
  CUSTOMER_ID    VARCHAR(12)   NOT NULL REFERENCES CUSTOMER (CUSTOMER_ID),
  BUSINESS_DAY   DATE          NOT NULL,
  TRANSFERS      INTEGER       NOT NULL,
  AMOUNT         DECIMAL(15,2) NOT NULL,
  PAYEE_FAILURES INTEGER       NOT NULL,
  PRIMARY KEY (CUSTOMER_ID, BUSINESS_DAY)
) /* @IN */
@
-- The ledger: one entry per leg, newest first by ENTRY_ID.
CREATE TABLE LEDGER_ENTRY (
  ENTRY_ID      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ACCOUNT_ID    VARCHAR(20)   NOT NULL REFERENCES ACCOUNT (ACCOUNT_ID),
  TRANSFER_ID   CHAR(36),
  BOOKED_AT     TIMESTAMP     NOT NULL,
  AMOUNT        DECIMAL(15,2) NOT NULL,
  BALANCE_AFTER DECIMAL(15,2) NOT NULL,
  COUNTERPARTY  VARCHAR(20),
  REFERENCE     VARCHAR(140)
) /* @IN */
@
CREATE INDEX LEDGER_ENTRY_ACCOUNT ON LEDGER_ENTRY (ACCOUNT_ID, ENTRY_ID)
@
CREATE TABLE AUDIT_LOG (
  AUDIT_ID       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  LOGGED_AT      TIMESTAMP    NOT NULL,
  EVENT          VARCHAR(20)  NOT NULL,
  OUTCOME        VARCHAR(40)  NOT NULL,
  CUSTOMER_ID    VARCHAR(12),
  ACCOUNT_ID     VARCHAR(20),
  REQUEST_ID     VARCHAR(64),
  CLIENT_ADDRESS VARCHAR(45),
  TRACE_ID       CHAR(32),
  DEVICE         VARCHAR(64),
  SESSION_HASH   CHAR(16),
  DETAIL         VARCHAR(200)
) /* @IN */
@
CREATE INDEX AUDIT_LOG_LOGGED_AT ON AUDIT_LOG (LOGGED_AT)
@
CREATE INDEX AUDIT_LOG_CUSTOMER ON AUDIT_LOG (CUSTOMER_ID, AUDIT_ID)
@
