-- The host's schema, functions and procedures in one script: what a new
-- database runs.
-- replaces: 001_schema 002_procedures 003_transfer 004_employee 005_host_interface_v2 006_transfer_v2 007_employee_v2 008_login_guard_per_device
-- A ledger that holds all of those versions already describes this schema:
-- db/migrate.ts records this version there without running it (after the
-- missing ones, from db/pg/upgrades, when the ledger holds only some).

-- Tables: the Db2 SAMPLE DEPARTMENT and EMPLOYEE tables, the bank's
-- customers, accounts and ledger, login credentials and the lockout's guard
-- rows, host sessions (the scratch pad), a per-customer day of transfers and
-- the audit trail. Names are ones every Db2 platform accepts (z/OS reserves
-- AT, ROLE and SCRATCHPAD). Timestamps are UTC (timestamptz here, TIMESTAMP
-- on Db2). Db2 twins: db/db2/migrations.
-- A constraint named unlike its column (customer_role_check, and four NOT
-- NULLs that PostgreSQL 18 names and 15 does not) has the name a database
-- brought here by db/pg/upgrades has: one schema whichever way it came.

-- SAMPLE's DEPARTMENT (without its foreign keys to EMPLOYEE and to itself):
-- an employee's WORKDEPT must name one, as on a real SAMPLE database.
CREATE TABLE department (
  deptno   CHAR(3)     NOT NULL PRIMARY KEY,
  deptname VARCHAR(36) NOT NULL,
  mgrno    CHAR(6),
  admrdept CHAR(3)     NOT NULL,
  location CHAR(16)
);

CREATE TABLE employee (
  empno      CHAR(6)      NOT NULL PRIMARY KEY,
  firstnme   VARCHAR(12)  NOT NULL,
  midinit    CHAR(1),
  lastname   VARCHAR(15)  NOT NULL,
  workdept   CHAR(3),
  phoneno    CHAR(4),
  hiredate   DATE,
  job        CHAR(8),
  edlevel    SMALLINT     NOT NULL,
  sex        CHAR(1),
  birthdate  DATE,
  salary     DECIMAL(9,2),
  bonus      DECIMAL(9,2),
  comm       DECIMAL(9,2),
  CONSTRAINT employee_workdept FOREIGN KEY (workdept) REFERENCES department ON DELETE SET NULL
);
CREATE INDEX employee_workdept ON employee (workdept, empno);

CREATE TABLE customer (
  customer_id VARCHAR(12) NOT NULL PRIMARY KEY,
  name        VARCHAR(60) NOT NULL,
  bank_id     VARCHAR(11) NOT NULL,
  access_role VARCHAR(8)  CONSTRAINT customer_role_not_null NOT NULL
                          CONSTRAINT customer_role_check CHECK (access_role IN ('customer', 'staff'))
);

CREATE TABLE account (
  account_id  VARCHAR(20)   NOT NULL PRIMARY KEY,
  customer_id VARCHAR(12)   NOT NULL REFERENCES customer,
  bank_id     VARCHAR(11)   NOT NULL,
  kind        VARCHAR(10)   NOT NULL,
  currency    CHAR(3)       NOT NULL,
  balance     DECIMAL(15,2) NOT NULL CHECK (balance >= 0)
);
CREATE INDEX account_customer ON account (customer_id);

-- One row per account that can log in; the digest is computed on the API
-- tier (scrypt), the host only compares it.
CREATE TABLE credential (
  account_id  VARCHAR(20) NOT NULL PRIMARY KEY REFERENCES account,
  customer_id VARCHAR(12) NOT NULL REFERENCES customer,
  pin_digest  VARCHAR(64) NOT NULL
);

-- Lockout that holds under any concurrency, and that a stranger cannot turn
-- against a customer.
--
-- 1. Every login and step-up takes the lock of its failure guard row before
--    it compares a PIN (an upsert: a missing row is created, an existing one
--    locked), so concurrent wrong PINs on one account queue on that row: at
--    most p_max_failures are compared per lock window, on any number of API
--    instances, and the lock, once set, stays set.
-- 2. Failures count per account number *and device bucket*: a device key
--    that has completed a login on the account is a known device
--    (known_device) with a bucket of its own; every other client (unknown
--    keys, unbound bearer clients) shares the bucket '*'. A stranger who
--    knows an account number can lock only the '*' bucket: the customer's
--    own phone keeps logging in. A stolen phone still gets at most
--    p_max_failures tries per lock window in its bucket.

-- Consecutive failed logins per account number tried, whether or not the
-- account exists (an unknown number locks exactly like a real one, so the
-- lockout tells an attacker nothing), and per bucket: the thumbprint of a
-- known device, or '*' for everything else. The row exists from the first
-- attempt that needed it (its lock is what serialises attempts), so
-- last_failure_at is NULL until its first failure. A success deletes the
-- row; the purge deletes rows neither locked nor failed lately.
CREATE TABLE login_guard (
  account_id      VARCHAR(20) NOT NULL,
  failures        SMALLINT    NOT NULL,
  locked_until    TIMESTAMPTZ,
  last_failure_at TIMESTAMPTZ,
  device_bucket   VARCHAR(43) NOT NULL,
  PRIMARY KEY (account_id, device_bucket)
);

-- Device keys (RFC 7638 thumbprints) that completed a login on an account.
-- Ending a session by its reference forgets its key (the customer no longer
-- trusts that device); the purge forgets keys unused for p_known_device_before.
CREATE TABLE known_device (
  account_id     VARCHAR(20) NOT NULL,
  jkt            CHAR(43)    NOT NULL,
  first_login_at TIMESTAMPTZ NOT NULL,
  last_login_at  TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (account_id, jkt)
);

-- The session "scratch pad area": one row per live session, keyed by the
-- UUID the API generated. Deleting the row kills every token naming it.
-- jkt: the RFC 7638 thumbprint (SHA-256, base64url) of the device key the
-- session is bound to; NULL: a bearer session.
CREATE TABLE host_session (
  session_id          CHAR(36)      NOT NULL PRIMARY KEY,
  session_hash        CHAR(16)      NOT NULL,
  customer_id         VARCHAR(12)   NOT NULL REFERENCES customer,
  account_id          VARCHAR(20)   NOT NULL,
  bank_id             VARCHAR(11)   NOT NULL,
  access_role         VARCHAR(8)    CONSTRAINT host_session_role_not_null NOT NULL,
  device              VARCHAR(64),
  created_at          TIMESTAMPTZ   NOT NULL,
  last_seen_at        TIMESTAMPTZ   NOT NULL,
  idle_expires_at     TIMESTAMPTZ   NOT NULL,
  absolute_expires_at TIMESTAMPTZ   NOT NULL,
  scratch_pad         VARCHAR(4096) CONSTRAINT host_session_scratchpad_not_null NOT NULL DEFAULT '{}',
  jkt                 CHAR(43)
);
CREATE INDEX host_session_customer ON host_session (customer_id);
CREATE INDEX host_session_idle ON host_session (idle_expires_at);

CREATE TABLE transfer (
  customer_id     VARCHAR(12)   NOT NULL,
  idempotency_key VARCHAR(64)   NOT NULL,
  request_digest  CHAR(64)      NOT NULL,
  transfer_id     CHAR(36)      NOT NULL UNIQUE,
  from_account    VARCHAR(20)   NOT NULL,
  to_account      VARCHAR(20)   NOT NULL,
  amount          DECIMAL(15,2) NOT NULL,
  currency        CHAR(3)       NOT NULL,
  reference       VARCHAR(140),
  booked_at       TIMESTAMPTZ   NOT NULL,
  PRIMARY KEY (customer_id, idempotency_key)
);

-- One row per customer and UTC day with transfers: the velocity limits and
-- the count of failed payee checks (unknown or foreign-bank target accounts).
-- The transfer procedure locks it first, so the limits hold under any race.
CREATE TABLE transfer_day (
  customer_id    VARCHAR(12)   NOT NULL REFERENCES customer,
  business_day   DATE          NOT NULL,
  transfers      INTEGER       NOT NULL,
  amount         DECIMAL(15,2) NOT NULL,
  payee_failures INTEGER       NOT NULL,
  PRIMARY KEY (customer_id, business_day)
);

-- The ledger: one entry per leg, newest first by entry_id.
CREATE TABLE ledger_entry (
  entry_id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id    VARCHAR(20)   NOT NULL REFERENCES account,
  transfer_id   CHAR(36),
  booked_at     TIMESTAMPTZ   NOT NULL,
  amount        DECIMAL(15,2) NOT NULL,
  balance_after DECIMAL(15,2) NOT NULL,
  counterparty  VARCHAR(20),
  reference     VARCHAR(140)
);
CREATE INDEX ledger_entry_account ON ledger_entry (account_id, entry_id);

CREATE TABLE audit_log (
  audit_id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  logged_at      TIMESTAMPTZ  CONSTRAINT audit_log_at_not_null NOT NULL,
  event          VARCHAR(20)  NOT NULL,
  outcome        VARCHAR(40)  NOT NULL,
  customer_id    VARCHAR(12),
  account_id     VARCHAR(20),
  request_id     VARCHAR(64),
  client_address VARCHAR(45),
  device         VARCHAR(64),
  session_hash   CHAR(16),
  detail         VARCHAR(200),
  trace_id       CHAR(32)
);
CREATE INDEX audit_log_logged_at ON audit_log (logged_at);
CREATE INDEX audit_log_customer ON audit_log (customer_id, audit_id);

-- Functions and procedures, PL/pgSQL: each procedure is one call, one
-- transaction. Their Db2 twins (db/db2/migrations) have the same names,
-- parameter order and status codes. Every procedure that changes state
-- writes its audit row itself, in the same transaction, so an action and its
-- record commit or roll back together. The API passes the clock (p_now) so
-- every instance and the tests agree on it.

CREATE FUNCTION audit_write(
  p_now TIMESTAMPTZ, p_event VARCHAR, p_outcome VARCHAR, p_customer_id VARCHAR,
  p_account_id VARCHAR, p_request_id VARCHAR, p_client_address VARCHAR, p_trace_id CHAR,
  p_device VARCHAR, p_session_hash CHAR, p_detail VARCHAR
) RETURNS VOID LANGUAGE sql AS $$
  INSERT INTO audit_log (logged_at, event, outcome, customer_id, account_id, request_id,
                         client_address, trace_id, device, session_hash, detail)
  VALUES (p_now, p_event, p_outcome, p_customer_id, p_account_id, p_request_id,
          p_client_address, p_trace_id, p_device, p_session_hash, p_detail)
$$;

-- The bucket an attempt counts in: the key's own when it is a known device
-- of the account, else '*'.
CREATE FUNCTION login_guard_bucket(p_account VARCHAR, p_jkt CHAR) RETURNS VARCHAR
LANGUAGE sql STABLE AS $$
  SELECT COALESCE((SELECT jkt FROM known_device WHERE account_id = p_account AND jkt = p_jkt), '*')
$$;

-- The guard row of one bucket, created when missing and locked until the
-- caller's transaction ends: a concurrent attempt on the same bucket waits
-- here, before it compares anything.
CREATE FUNCTION login_guard_acquire(p_account VARCHAR, p_bucket VARCHAR)
RETURNS login_guard LANGUAGE sql AS $$
  INSERT INTO login_guard (account_id, device_bucket, failures, locked_until, last_failure_at)
  VALUES (p_account, p_bucket, 0, NULL, NULL)
  ON CONFLICT (account_id, device_bucket) DO UPDATE SET failures = login_guard.failures -- takes the row's lock
  RETURNING *
$$;

-- Counts a wrong PIN on a guard row the caller holds (login_guard_acquire)
-- and locks the bucket at p_max_failures; failures older than the lock
-- length are forgotten first. Returns the consecutive failures counted
-- (p_max_failures: now locked).
CREATE FUNCTION login_guard_failure(
  p_guard login_guard, p_now TIMESTAMPTZ, p_max_failures INTEGER, p_lock_seconds INTEGER
) RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE
  v_failures INTEGER := p_guard.failures;
BEGIN
  IF p_guard.last_failure_at <= p_now - p_lock_seconds * INTERVAL '1 second' THEN
    v_failures := 0;
  END IF;
  v_failures := v_failures + 1;
  IF v_failures >= p_max_failures THEN
    UPDATE login_guard
       SET failures = 0, locked_until = p_now + p_lock_seconds * INTERVAL '1 second', last_failure_at = p_now
     WHERE account_id = p_guard.account_id AND device_bucket = p_guard.device_bucket;
    RETURN p_max_failures;
  END IF;
  UPDATE login_guard SET failures = v_failures, last_failure_at = p_now
   WHERE account_id = p_guard.account_id AND device_bucket = p_guard.device_bucket;
  RETURN v_failures;
END
$$;

-- What an audit row says of a bucket.
CREATE FUNCTION login_guard_name(p_bucket VARCHAR) RETURNS VARCHAR
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_bucket = '*' THEN 'unknown devices' ELSE 'known device' END
$$;

-- Status: 0 ok (session row created), 1 invalid credentials, 2 locked.
CREATE PROCEDURE login(
  IN p_session_id CHAR(36), IN p_session_hash CHAR(16), IN p_account VARCHAR(20),
  IN p_pin_digest VARCHAR(64), IN p_device VARCHAR(64), IN p_jkt CHAR(43),
  IN p_request_id VARCHAR(64), IN p_client_address VARCHAR(45), IN p_trace_id CHAR(32),
  IN p_now TIMESTAMPTZ, IN p_idle_seconds INTEGER, IN p_absolute_seconds INTEGER,
  IN p_max_failures INTEGER, IN p_lock_seconds INTEGER,
  OUT o_status INTEGER, OUT o_customer_id VARCHAR(12), OUT o_bank_id VARCHAR(11),
  OUT o_access_role VARCHAR(8), OUT o_retry_after INTEGER
) LANGUAGE plpgsql AS $$
DECLARE
  v_guard login_guard;
  v_customer_id VARCHAR(12);
  v_digest VARCHAR(64);
  v_failures INTEGER;
BEGIN
  o_retry_after := 0;
  v_guard := login_guard_acquire(p_account, login_guard_bucket(p_account, p_jkt));
  -- Read for unknown accounts too: both failures cost the host the same.
  SELECT customer_id, pin_digest INTO v_customer_id, v_digest FROM credential WHERE account_id = p_account;

  IF v_guard.locked_until > p_now THEN
    o_status := 2;
    o_retry_after := CEIL(EXTRACT(EPOCH FROM (v_guard.locked_until - p_now)));
    PERFORM audit_write(p_now, 'login', 'locked', v_customer_id, p_account, p_request_id,
                        p_client_address, p_trace_id, p_device, NULL, login_guard_name(v_guard.device_bucket));
    RETURN;
  END IF;

  IF v_digest IS NULL OR v_digest <> p_pin_digest THEN
    o_status := 1;
    v_failures := login_guard_failure(v_guard, p_now, p_max_failures, p_lock_seconds);
    PERFORM audit_write(p_now, 'login', 'invalid_credentials', v_customer_id, p_account, p_request_id,
                        p_client_address, p_trace_id, p_device, NULL,
                        CASE WHEN v_failures >= p_max_failures THEN 'locked for ' || p_lock_seconds || ' s'
                             ELSE 'failure ' || v_failures || ' of ' || p_max_failures END
                        || ', ' || login_guard_name(v_guard.device_bucket));
    RETURN;
  END IF;

  DELETE FROM login_guard WHERE account_id = p_account AND device_bucket = v_guard.device_bucket;
  IF p_jkt IS NOT NULL THEN
    INSERT INTO known_device (account_id, jkt, first_login_at, last_login_at)
    VALUES (p_account, p_jkt, p_now, p_now)
    ON CONFLICT (account_id, jkt) DO UPDATE SET last_login_at = EXCLUDED.last_login_at;
  END IF;
  SELECT bank_id, access_role INTO o_bank_id, o_access_role FROM customer WHERE customer_id = v_customer_id;
  INSERT INTO host_session (session_id, session_hash, customer_id, account_id, bank_id, access_role,
                            device, jkt, created_at, last_seen_at, idle_expires_at, absolute_expires_at)
  VALUES (p_session_id, p_session_hash, v_customer_id, p_account, o_bank_id, o_access_role, p_device, p_jkt,
          p_now, p_now,
          LEAST(p_now + p_idle_seconds * INTERVAL '1 second',
                p_now + p_absolute_seconds * INTERVAL '1 second'),
          p_now + p_absolute_seconds * INTERVAL '1 second');
  PERFORM audit_write(p_now, 'login', 'ok', v_customer_id, p_account, p_request_id,
                      p_client_address, p_trace_id, p_device, p_session_hash,
                      CASE WHEN p_jkt IS NOT NULL THEN 'device-bound' END);
  o_status := 0;
  o_customer_id := v_customer_id;
END
$$;

-- Resolves a host session for one request. Status: 0 alive, 1 no such
-- session, 2 expired (the row is deleted now). The row is written only when
-- p_touch_seconds have passed since the last write: reads stay reads.
CREATE PROCEDURE session_resolve(
  IN p_session_id CHAR(36), IN p_now TIMESTAMPTZ, IN p_idle_seconds INTEGER,
  IN p_touch_seconds INTEGER, IN p_request_id VARCHAR(64), IN p_client_address VARCHAR(45),
  IN p_trace_id CHAR(32),
  OUT o_status INTEGER, OUT o_customer_id VARCHAR(12), OUT o_account_id VARCHAR(20),
  OUT o_bank_id VARCHAR(11), OUT o_access_role VARCHAR(8), OUT o_device VARCHAR(64), OUT o_jkt CHAR(43),
  OUT o_session_hash CHAR(16), OUT o_created_at TIMESTAMPTZ, OUT o_last_seen_at TIMESTAMPTZ,
  OUT o_idle_expires_at TIMESTAMPTZ, OUT o_absolute_expires_at TIMESTAMPTZ
) LANGUAGE plpgsql AS $$
BEGIN
  SELECT customer_id, account_id, bank_id, access_role, device, jkt, session_hash, created_at,
         last_seen_at, idle_expires_at, absolute_expires_at
    INTO o_customer_id, o_account_id, o_bank_id, o_access_role, o_device, o_jkt, o_session_hash,
         o_created_at, o_last_seen_at, o_idle_expires_at, o_absolute_expires_at
    FROM host_session WHERE session_id = p_session_id;
  IF NOT FOUND THEN
    o_status := 1;
    RETURN;
  END IF;

  IF o_idle_expires_at <= p_now OR o_absolute_expires_at <= p_now THEN
    DELETE FROM host_session WHERE session_id = p_session_id;
    IF FOUND THEN
      PERFORM audit_write(p_now, 'session_expired', 'ok', o_customer_id, o_account_id,
                          p_request_id, p_client_address, p_trace_id, o_device, o_session_hash,
                          CASE WHEN o_absolute_expires_at <= p_now THEN 'absolute' ELSE 'idle' END);
    END IF;
    o_status := 2;
    RETURN;
  END IF;

  IF p_now >= o_last_seen_at + p_touch_seconds * INTERVAL '1 second' THEN
    o_last_seen_at := p_now;
    o_idle_expires_at := LEAST(p_now + p_idle_seconds * INTERVAL '1 second', o_absolute_expires_at);
    UPDATE host_session
       SET last_seen_at = o_last_seen_at, idle_expires_at = o_idle_expires_at
     WHERE session_id = p_session_id;
  END IF;
  o_status := 0;
END
$$;

-- Status: 0 deleted, 1 no such session.
CREATE PROCEDURE logout(
  IN p_session_id CHAR(36), IN p_request_id VARCHAR(64), IN p_client_address VARCHAR(45),
  IN p_trace_id CHAR(32), IN p_now TIMESTAMPTZ, OUT o_status INTEGER
) LANGUAGE plpgsql AS $$
DECLARE
  v_row host_session%ROWTYPE;
BEGIN
  DELETE FROM host_session WHERE session_id = p_session_id RETURNING * INTO v_row;
  IF NOT FOUND THEN
    o_status := 1;
    RETURN;
  END IF;
  PERFORM audit_write(p_now, 'logout', 'ok', v_row.customer_id, v_row.account_id, p_request_id,
                      p_client_address, p_trace_id, v_row.device, v_row.session_hash, NULL);
  o_status := 0;
END
$$;

-- Deletes every session of the customer who owns p_session_id.
-- Status: 0 done (o_sessions rows deleted), 1 no such session.
CREATE PROCEDURE logout_all(
  IN p_session_id CHAR(36), IN p_request_id VARCHAR(64), IN p_client_address VARCHAR(45),
  IN p_trace_id CHAR(32), IN p_now TIMESTAMPTZ, OUT o_status INTEGER, OUT o_sessions INTEGER
) LANGUAGE plpgsql AS $$
DECLARE
  v_row host_session%ROWTYPE;
BEGIN
  o_sessions := 0;
  SELECT * INTO v_row FROM host_session WHERE session_id = p_session_id;
  IF NOT FOUND THEN
    o_status := 1;
    RETURN;
  END IF;
  DELETE FROM host_session WHERE customer_id = v_row.customer_id;
  GET DIAGNOSTICS o_sessions = ROW_COUNT;
  PERFORM audit_write(p_now, 'logout_all', 'ok', v_row.customer_id, v_row.account_id, p_request_id,
                      p_client_address, p_trace_id, v_row.device, v_row.session_hash,
                      o_sessions || ' sessions');
  o_status := 0;
END
$$;

-- Ends one session of the caller's customer, named by its reference (the
-- session hash): a device the customer no longer trusts, whose key stops
-- being a known device of the account. Status: 0 ended, 1 the caller's own
-- session is gone, 2 no such session of this customer.
CREATE PROCEDURE session_end(
  IN p_session_id CHAR(36), IN p_ref CHAR(16), IN p_request_id VARCHAR(64),
  IN p_client_address VARCHAR(45), IN p_trace_id CHAR(32), IN p_now TIMESTAMPTZ,
  OUT o_status INTEGER
) LANGUAGE plpgsql AS $$
DECLARE
  v_caller host_session%ROWTYPE;
  v_ended host_session%ROWTYPE;
BEGIN
  SELECT * INTO v_caller FROM host_session WHERE session_id = p_session_id;
  IF NOT FOUND THEN
    o_status := 1;
    RETURN;
  END IF;
  DELETE FROM host_session WHERE customer_id = v_caller.customer_id AND session_hash = p_ref
  RETURNING * INTO v_ended;
  IF NOT FOUND THEN
    o_status := 2;
    RETURN;
  END IF;
  DELETE FROM known_device WHERE account_id = v_ended.account_id AND jkt = v_ended.jkt;
  PERFORM audit_write(p_now, 'session_end', 'ok', v_caller.customer_id, v_ended.account_id,
                      p_request_id, p_client_address, p_trace_id, v_caller.device,
                      v_caller.session_hash, 'ended session ' || p_ref);
  o_status := 0;
END
$$;

-- Deletes expired sessions (auditing each), audit rows older than
-- p_audit_before, failure guards neither locked nor failed since
-- p_guard_before, known devices unused since p_known_device_before, and
-- transfer days before yesterday. Safe to run from many instances at once:
-- a row is deleted, and audited, by exactly one.
CREATE PROCEDURE purge_expired(
  IN p_now TIMESTAMPTZ, IN p_audit_before TIMESTAMPTZ, IN p_guard_before TIMESTAMPTZ,
  IN p_known_device_before TIMESTAMPTZ, OUT o_sessions INTEGER, OUT o_audit_rows INTEGER
) LANGUAGE plpgsql AS $$
BEGIN
  WITH gone AS (
    DELETE FROM host_session
     WHERE idle_expires_at <= p_now OR absolute_expires_at <= p_now
    RETURNING customer_id, account_id, device, session_hash, absolute_expires_at
  )
  INSERT INTO audit_log (logged_at, event, outcome, customer_id, account_id, device, session_hash, detail)
  SELECT p_now, 'session_expired', 'ok', customer_id, account_id, device, session_hash,
         CASE WHEN absolute_expires_at <= p_now THEN 'purged, absolute' ELSE 'purged, idle' END
    FROM gone;
  GET DIAGNOSTICS o_sessions = ROW_COUNT;
  DELETE FROM audit_log WHERE logged_at < p_audit_before;
  GET DIAGNOSTICS o_audit_rows = ROW_COUNT;
  DELETE FROM login_guard
   WHERE (locked_until IS NULL OR locked_until <= p_now)
     AND (last_failure_at IS NULL OR last_failure_at <= p_guard_before);
  DELETE FROM known_device WHERE last_login_at < p_known_device_before;
  DELETE FROM transfer_day WHERE business_day < CAST(p_now AT TIME ZONE 'UTC' AS DATE) - 1;
END
$$;

-- Money transfer: one call, one transaction. Besides ownership, bank
-- identifier, currency and funds (checked on rows locked in a fixed order, so
-- concurrent transfers can neither overdraw nor lose an update), the host
-- checks:
-- - the target is in the session's own bank: another bank's account is
--   answered exactly as an unknown one, and both count as a failed payee
--   check; p_payee_max_failures of them in a UTC day block the customer's
--   transfers until the day ends, so account numbers (login ids) cannot be
--   harvested through the transfer route;
-- - the payee before the balance, so the answer to a huge amount does not
--   tell whether an account exists;
-- - the daily amount and count limits per customer (OWASP API6), on a row
--   locked first, so they hold across instances and races;
-- - the PIN again above the step-up amount (p_pin_digest, NULL otherwise),
--   compared and counted toward the lockout as at login, in the bucket of
--   the session's device key (p_jkt, NULL for a bearer session);
-- - the currency a device signed (p_signed_currency, NULL when unsigned).
-- Status: 0 booked, 1 replay of an earlier transfer (its result is returned),
-- 2 bank mismatch, 3 source account not the customer's, 4 unknown payee,
-- 5 currency mismatch, 6 insufficient funds, 7 idempotency key reused with
-- another request, 8 same source and target, 9 amount not positive, 10 payee
-- checks exhausted for the day (o_retry_after), 11 daily limit exceeded,
-- 12 step-up PIN wrong, 13 account locked (o_retry_after), 14 signed
-- currency is not the account's.
CREATE PROCEDURE transfer(
  IN p_customer_id VARCHAR(12), IN p_login_account VARCHAR(20), IN p_session_bank_id VARCHAR(11),
  IN p_bank_id VARCHAR(11), IN p_idempotency_key VARCHAR(64), IN p_request_digest CHAR(64),
  IN p_transfer_id CHAR(36), IN p_from_account VARCHAR(20), IN p_to_account VARCHAR(20),
  IN p_amount DECIMAL(15,2), IN p_reference VARCHAR(140), IN p_signed_currency CHAR(3),
  IN p_auth_method VARCHAR(16), IN p_auth_digest CHAR(64), IN p_pin_digest VARCHAR(64),
  IN p_max_failures INTEGER, IN p_lock_seconds INTEGER, IN p_payee_max_failures INTEGER,
  IN p_daily_amount_limit DECIMAL(15,2), IN p_daily_count_limit INTEGER, IN p_now TIMESTAMPTZ,
  IN p_request_id VARCHAR(64), IN p_client_address VARCHAR(45), IN p_trace_id CHAR(32),
  IN p_device VARCHAR(64), IN p_session_hash CHAR(16), IN p_jkt CHAR(43),
  OUT o_status INTEGER, OUT o_transfer_id CHAR(36), OUT o_from_account VARCHAR(20),
  OUT o_to_account VARCHAR(20), OUT o_amount DECIMAL(15,2), OUT o_currency CHAR(3),
  OUT o_reference VARCHAR(140), OUT o_booked_at TIMESTAMPTZ, OUT o_retry_after INTEGER
) LANGUAGE plpgsql AS $$
DECLARE
  v_digest CHAR(64);
  v_from account%ROWTYPE;
  v_to account%ROWTYPE;
  v_row account%ROWTYPE;
  v_day transfer_day%ROWTYPE;
  v_today DATE := CAST(p_now AT TIME ZONE 'UTC' AS DATE);
  v_guard login_guard;
  v_failures INTEGER;
  v_outcome VARCHAR(40);
  v_auth VARCHAR(100);
BEGIN
  o_retry_after := 0;
  v_auth := CASE WHEN p_auth_digest IS NULL THEN p_auth_method
                 ELSE p_auth_method || ' ' || SUBSTR(p_auth_digest, 1, 16) END;
  IF p_bank_id <> p_session_bank_id THEN
    o_status := 2;
  ELSIF p_amount <= 0 THEN
    o_status := 9;
  ELSIF p_from_account = p_to_account THEN
    o_status := 8;
  END IF;

  IF o_status IS NULL AND p_pin_digest IS NOT NULL THEN
    -- Step-up: the PIN of the account this session logged in with, under the
    -- login's lockout and in the bucket of the session's device, its guard
    -- row locked before the PIN is compared (as at login).
    v_guard := login_guard_acquire(p_login_account, login_guard_bucket(p_login_account, p_jkt));
    IF v_guard.locked_until > p_now THEN
      o_status := 13;
      o_retry_after := CEIL(EXTRACT(EPOCH FROM (v_guard.locked_until - p_now)));
    ELSIF NOT EXISTS (SELECT 1 FROM credential
                       WHERE account_id = p_login_account AND pin_digest = p_pin_digest) THEN
      v_failures := login_guard_failure(v_guard, p_now, p_max_failures, p_lock_seconds);
      o_status := 12;
    ELSE
      DELETE FROM login_guard WHERE account_id = p_login_account AND device_bucket = v_guard.device_bucket;
    END IF;
  END IF;

  IF o_status IS NULL THEN
    -- Claim the idempotency key first: a concurrent call with the same key
    -- waits here until this one commits, then sees its result.
    INSERT INTO transfer (customer_id, idempotency_key, request_digest, transfer_id,
                          from_account, to_account, amount, currency, reference, booked_at)
    VALUES (p_customer_id, p_idempotency_key, p_request_digest, p_transfer_id,
            p_from_account, p_to_account, p_amount, '???', p_reference, p_now)
    ON CONFLICT (customer_id, idempotency_key) DO NOTHING;
    IF NOT FOUND THEN
      SELECT request_digest, transfer_id, from_account, to_account, amount, currency,
             reference, booked_at
        INTO v_digest, o_transfer_id, o_from_account, o_to_account, o_amount, o_currency,
             o_reference, o_booked_at
        FROM transfer
       WHERE customer_id = p_customer_id AND idempotency_key = p_idempotency_key;
      IF v_digest = p_request_digest THEN
        o_status := 1;
        PERFORM audit_write(p_now, 'transfer', 'replayed', p_customer_id, p_from_account,
                            p_request_id, p_client_address, p_trace_id, p_device, p_session_hash,
                            'transfer ' || o_transfer_id || ' ' || v_auth);
        RETURN;
      END IF;
      o_transfer_id := NULL; o_from_account := NULL; o_to_account := NULL;
      o_amount := NULL; o_currency := NULL; o_reference := NULL; o_booked_at := NULL;
      o_status := 7;
    END IF;
  END IF;

  IF o_status IS NULL THEN
    INSERT INTO transfer_day (customer_id, business_day, transfers, amount, payee_failures)
    VALUES (p_customer_id, v_today, 0, 0, 0) ON CONFLICT DO NOTHING;
    SELECT * INTO v_day FROM transfer_day
     WHERE customer_id = p_customer_id AND business_day = v_today FOR UPDATE;
    IF v_day.payee_failures >= p_payee_max_failures THEN
      o_status := 10;
      o_retry_after := CEIL(EXTRACT(EPOCH FROM (CAST(v_today + 1 AS TIMESTAMP) - (p_now AT TIME ZONE 'UTC'))));
    END IF;
  END IF;

  IF o_status IS NULL THEN
    FOR v_row IN
      SELECT * FROM account WHERE account_id IN (p_from_account, p_to_account)
       ORDER BY account_id FOR UPDATE
    LOOP
      IF v_row.account_id = p_from_account THEN v_from := v_row; ELSE v_to := v_row; END IF;
    END LOOP;
    IF v_from.account_id IS NULL OR v_from.customer_id <> p_customer_id THEN
      o_status := 3;
    ELSIF v_to.account_id IS NULL OR v_to.bank_id <> p_session_bank_id THEN
      o_status := 4;
      UPDATE transfer_day SET payee_failures = payee_failures + 1
       WHERE customer_id = p_customer_id AND business_day = v_today;
    ELSIF v_from.currency <> v_to.currency THEN
      o_status := 5;
    ELSIF p_signed_currency IS NOT NULL AND p_signed_currency <> v_from.currency THEN
      o_status := 14;
    ELSIF v_from.balance < p_amount THEN
      o_status := 6;
    ELSIF v_day.transfers + 1 > p_daily_count_limit OR v_day.amount + p_amount > p_daily_amount_limit THEN
      o_status := 11;
    ELSE
      UPDATE account SET balance = balance - p_amount WHERE account_id = p_from_account;
      UPDATE account SET balance = balance + p_amount WHERE account_id = p_to_account;
      INSERT INTO ledger_entry (account_id, transfer_id, booked_at, amount, balance_after,
                                counterparty, reference)
      VALUES (p_from_account, p_transfer_id, p_now, -p_amount, v_from.balance - p_amount,
              p_to_account, p_reference);
      INSERT INTO ledger_entry (account_id, transfer_id, booked_at, amount, balance_after,
                                counterparty, reference)
      VALUES (p_to_account, p_transfer_id, p_now, p_amount, v_to.balance + p_amount,
              p_from_account, p_reference);
      UPDATE transfer SET currency = v_from.currency
       WHERE customer_id = p_customer_id AND idempotency_key = p_idempotency_key;
      UPDATE transfer_day SET transfers = transfers + 1, amount = amount + p_amount
       WHERE customer_id = p_customer_id AND business_day = v_today;
      o_status := 0;
      o_transfer_id := p_transfer_id;
      o_from_account := p_from_account;
      o_to_account := p_to_account;
      o_amount := p_amount;
      o_currency := v_from.currency;
      o_reference := p_reference;
      o_booked_at := p_now;
    END IF;
  END IF;

  IF o_status NOT IN (0, 2, 7, 8, 9, 12, 13) THEN
    -- Rejected after the key was claimed: release it so a corrected retry may use it.
    DELETE FROM transfer
     WHERE customer_id = p_customer_id AND idempotency_key = p_idempotency_key;
  END IF;

  v_outcome := CASE o_status
    WHEN 0 THEN 'ok' WHEN 2 THEN 'bank_mismatch' WHEN 3 THEN 'not_found'
    WHEN 4 THEN 'unknown_account' WHEN 5 THEN 'currency_mismatch'
    WHEN 6 THEN 'insufficient_funds' WHEN 7 THEN 'idempotency_key_reused'
    WHEN 8 THEN 'same_account' WHEN 10 THEN 'payee_checks_exhausted'
    WHEN 11 THEN 'limit_exceeded' WHEN 12 THEN 'step_up_failed' WHEN 13 THEN 'account_locked'
    WHEN 14 THEN 'signature_mismatch' ELSE 'validation_failed' END;
  PERFORM audit_write(p_now, 'transfer', v_outcome, p_customer_id, p_from_account,
                      p_request_id, p_client_address, p_trace_id, p_device, p_session_hash,
                      CASE WHEN o_status = 0
                           THEN 'transfer ' || p_transfer_id || ' to ' || p_to_account
                                || ' ' || p_amount || ' ' || o_currency || ' ' || v_auth
                           WHEN o_status IN (12, 13)
                           THEN 'to ' || p_to_account || ' ' || p_amount || ' ' || v_auth || ', '
                                || CASE WHEN v_failures >= p_max_failures THEN 'locked for ' || p_lock_seconds || ' s, '
                                        WHEN v_failures IS NOT NULL THEN 'failure ' || v_failures || ' of ' || p_max_failures || ', '
                                        ELSE '' END
                                || login_guard_name(v_guard.device_bucket)
                           ELSE 'to ' || p_to_account || ' ' || p_amount || ' ' || v_auth END);
END
$$;

-- Employee writes (reads are plain statements, db/statements.ts): each one
-- call that also returns the row as stored (no read back), refuses a WORKDEPT
-- that DEPARTMENT does not hold (as a real SAMPLE database's foreign key
-- would, but as a status, not an error), and writes its audit row, trace id
-- included, in the same transaction.

-- Status: 0 created, 1 empno exists, 2 unknown department.
CREATE PROCEDURE employee_create(
  IN p_empno CHAR(6), IN p_firstnme VARCHAR(12), IN p_midinit CHAR(1), IN p_lastname VARCHAR(15),
  IN p_workdept CHAR(3), IN p_phoneno CHAR(4), IN p_hiredate DATE, IN p_job CHAR(8),
  IN p_edlevel SMALLINT, IN p_sex CHAR(1), IN p_birthdate DATE, IN p_salary DECIMAL(9,2),
  IN p_bonus DECIMAL(9,2), IN p_comm DECIMAL(9,2),
  IN p_customer_id VARCHAR(12), IN p_session_hash CHAR(16), IN p_request_id VARCHAR(64),
  IN p_client_address VARCHAR(45), IN p_trace_id CHAR(32), IN p_device VARCHAR(64), IN p_now TIMESTAMPTZ,
  OUT o_status INTEGER, OUT o_empno CHAR(6), OUT o_firstnme VARCHAR(12), OUT o_midinit CHAR(1),
  OUT o_lastname VARCHAR(15), OUT o_workdept CHAR(3), OUT o_phoneno CHAR(4), OUT o_hiredate DATE,
  OUT o_job CHAR(8), OUT o_edlevel SMALLINT, OUT o_sex CHAR(1), OUT o_birthdate DATE,
  OUT o_salary DECIMAL(9,2), OUT o_bonus DECIMAL(9,2), OUT o_comm DECIMAL(9,2)
) LANGUAGE plpgsql AS $$
BEGIN
  IF p_workdept IS NOT NULL AND NOT EXISTS (SELECT 1 FROM department WHERE deptno = p_workdept) THEN
    o_status := 2;
  ELSE
    INSERT INTO employee (empno, firstnme, midinit, lastname, workdept, phoneno, hiredate, job,
                          edlevel, sex, birthdate, salary, bonus, comm)
    VALUES (p_empno, p_firstnme, p_midinit, p_lastname, p_workdept, p_phoneno, p_hiredate, p_job,
            p_edlevel, p_sex, p_birthdate, p_salary, p_bonus, p_comm)
    ON CONFLICT (empno) DO NOTHING
    RETURNING empno, firstnme, midinit, lastname, workdept, phoneno, hiredate, job, edlevel, sex,
              birthdate, salary, bonus, comm
         INTO o_empno, o_firstnme, o_midinit, o_lastname, o_workdept, o_phoneno, o_hiredate, o_job,
              o_edlevel, o_sex, o_birthdate, o_salary, o_bonus, o_comm;
    o_status := CASE WHEN FOUND THEN 0 ELSE 1 END;
  END IF;
  PERFORM audit_write(p_now, 'employee_create',
                      CASE o_status WHEN 0 THEN 'ok' WHEN 1 THEN 'conflict' ELSE 'unknown_department' END,
                      p_customer_id, NULL, p_request_id, p_client_address, p_trace_id, p_device,
                      p_session_hash, 'empno ' || p_empno);
END
$$;

-- Partial update: only the columns named in p_fields (comma-separated, e.g.
-- ',FIRSTNME,SALARY,') change. Status: 0 updated, 1 not found, 2 edlevel
-- would decrease, 3 unknown department.
CREATE PROCEDURE employee_update(
  IN p_empno CHAR(6), IN p_fields VARCHAR(200), IN p_firstnme VARCHAR(12), IN p_midinit CHAR(1),
  IN p_lastname VARCHAR(15), IN p_workdept CHAR(3), IN p_phoneno CHAR(4), IN p_hiredate DATE,
  IN p_job CHAR(8), IN p_edlevel SMALLINT, IN p_sex CHAR(1), IN p_birthdate DATE,
  IN p_salary DECIMAL(9,2), IN p_bonus DECIMAL(9,2), IN p_comm DECIMAL(9,2),
  IN p_customer_id VARCHAR(12), IN p_session_hash CHAR(16), IN p_request_id VARCHAR(64),
  IN p_client_address VARCHAR(45), IN p_trace_id CHAR(32), IN p_device VARCHAR(64), IN p_now TIMESTAMPTZ,
  OUT o_status INTEGER, OUT o_empno CHAR(6), OUT o_firstnme VARCHAR(12), OUT o_midinit CHAR(1),
  OUT o_lastname VARCHAR(15), OUT o_workdept CHAR(3), OUT o_phoneno CHAR(4), OUT o_hiredate DATE,
  OUT o_job CHAR(8), OUT o_edlevel SMALLINT, OUT o_sex CHAR(1), OUT o_birthdate DATE,
  OUT o_salary DECIMAL(9,2), OUT o_bonus DECIMAL(9,2), OUT o_comm DECIMAL(9,2)
) LANGUAGE plpgsql AS $$
DECLARE
  v_edlevel SMALLINT;
BEGIN
  SELECT edlevel INTO v_edlevel FROM employee WHERE empno = p_empno FOR UPDATE;
  IF NOT FOUND THEN
    o_status := 1;
  ELSIF POSITION(',EDLEVEL,' IN p_fields) > 0 AND p_edlevel < v_edlevel THEN
    o_status := 2;
  ELSIF POSITION(',WORKDEPT,' IN p_fields) > 0 AND p_workdept IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM department WHERE deptno = p_workdept) THEN
    o_status := 3;
  ELSE
    UPDATE employee SET
      firstnme  = CASE WHEN POSITION(',FIRSTNME,'  IN p_fields) > 0 THEN p_firstnme  ELSE firstnme  END,
      midinit   = CASE WHEN POSITION(',MIDINIT,'   IN p_fields) > 0 THEN p_midinit   ELSE midinit   END,
      lastname  = CASE WHEN POSITION(',LASTNAME,'  IN p_fields) > 0 THEN p_lastname  ELSE lastname  END,
      workdept  = CASE WHEN POSITION(',WORKDEPT,'  IN p_fields) > 0 THEN p_workdept  ELSE workdept  END,
      phoneno   = CASE WHEN POSITION(',PHONENO,'   IN p_fields) > 0 THEN p_phoneno   ELSE phoneno   END,
      hiredate  = CASE WHEN POSITION(',HIREDATE,'  IN p_fields) > 0 THEN p_hiredate  ELSE hiredate  END,
      job       = CASE WHEN POSITION(',JOB,'       IN p_fields) > 0 THEN p_job       ELSE job       END,
      edlevel   = CASE WHEN POSITION(',EDLEVEL,'   IN p_fields) > 0 THEN p_edlevel   ELSE edlevel   END,
      sex       = CASE WHEN POSITION(',SEX,'       IN p_fields) > 0 THEN p_sex       ELSE sex       END,
      birthdate = CASE WHEN POSITION(',BIRTHDATE,' IN p_fields) > 0 THEN p_birthdate ELSE birthdate END,
      salary    = CASE WHEN POSITION(',SALARY,'    IN p_fields) > 0 THEN p_salary    ELSE salary    END,
      bonus     = CASE WHEN POSITION(',BONUS,'     IN p_fields) > 0 THEN p_bonus     ELSE bonus     END,
      comm      = CASE WHEN POSITION(',COMM,'      IN p_fields) > 0 THEN p_comm      ELSE comm      END
    WHERE empno = p_empno
    RETURNING empno, firstnme, midinit, lastname, workdept, phoneno, hiredate, job, edlevel, sex,
              birthdate, salary, bonus, comm
         INTO o_empno, o_firstnme, o_midinit, o_lastname, o_workdept, o_phoneno, o_hiredate, o_job,
              o_edlevel, o_sex, o_birthdate, o_salary, o_bonus, o_comm;
    o_status := 0;
  END IF;
  PERFORM audit_write(p_now, 'employee_update',
                      CASE o_status WHEN 0 THEN 'ok' WHEN 1 THEN 'not_found'
                                    WHEN 2 THEN 'edlevel_decrease' ELSE 'unknown_department' END,
                      p_customer_id, NULL, p_request_id, p_client_address, p_trace_id, p_device,
                      p_session_hash, 'empno ' || p_empno || ' fields ' || TRIM(BOTH ',' FROM p_fields));
END
$$;

-- Status: 0 deleted, 1 not found, 2 other rows refer to the employee (a
-- foreign key restricts the delete, as SAMPLE's PROJECT and EMPPROJACT do).
CREATE PROCEDURE employee_delete(
  IN p_empno CHAR(6), IN p_customer_id VARCHAR(12), IN p_session_hash CHAR(16),
  IN p_request_id VARCHAR(64), IN p_client_address VARCHAR(45), IN p_trace_id CHAR(32),
  IN p_device VARCHAR(64), IN p_now TIMESTAMPTZ, OUT o_status INTEGER
) LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    DELETE FROM employee WHERE empno = p_empno;
    o_status := CASE WHEN FOUND THEN 0 ELSE 1 END;
  EXCEPTION WHEN foreign_key_violation THEN
    o_status := 2;
  END;
  PERFORM audit_write(p_now, 'employee_delete',
                      CASE o_status WHEN 0 THEN 'ok' WHEN 1 THEN 'not_found' ELSE 'referenced' END,
                      p_customer_id, NULL, p_request_id, p_client_address, p_trace_id, p_device,
                      p_session_hash, 'empno ' || p_empno);
END
$$;
