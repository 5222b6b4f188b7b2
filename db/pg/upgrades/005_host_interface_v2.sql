-- The second host interface. Tables: names every Db2 platform accepts (z/OS
-- reserves AT, ROLE and SCRATCHPAD), failure counters for every account
-- number tried (known or not), a per-customer day of transfers (payee checks
-- and velocity limits), the device key a session is bound to, the trace id
-- in the audit trail, and the SAMPLE DEPARTMENT table EMPLOYEE refers to.
-- Procedures: the session ones here, transfer in 006, employee in 007; every
-- one is replaced (new parameters), each still one call, one transaction, its
-- audit row included. Db2 twins: db/db2/migrations.

ALTER TABLE audit_log RENAME COLUMN at TO logged_at;
ALTER INDEX audit_log_at RENAME TO audit_log_logged_at;
ALTER TABLE audit_log ADD COLUMN trace_id CHAR(32);
ALTER TABLE customer RENAME COLUMN role TO access_role;
ALTER TABLE host_session RENAME COLUMN role TO access_role;
ALTER TABLE host_session RENAME COLUMN scratchpad TO scratch_pad;
-- RFC 7638 thumbprint (SHA-256, base64url) of the device key the session is bound to; NULL: a bearer session.
ALTER TABLE host_session ADD COLUMN jkt CHAR(43);

-- Consecutive failed logins per account number tried, whether or not the
-- account exists: an unknown number locks exactly like a real one, so the
-- lockout tells an attacker nothing. A success deletes the row; the purge
-- deletes rows whose failures are older than the lock length.
CREATE TABLE login_guard (
  account_id      VARCHAR(20) NOT NULL PRIMARY KEY,
  failures        SMALLINT    NOT NULL,
  locked_until    TIMESTAMPTZ,
  last_failure_at TIMESTAMPTZ NOT NULL
);
INSERT INTO login_guard (account_id, failures, locked_until, last_failure_at)
SELECT account_id, failures, locked_until, CURRENT_TIMESTAMP FROM credential
 WHERE failures > 0 OR locked_until IS NOT NULL;
ALTER TABLE credential DROP COLUMN failures;
ALTER TABLE credential DROP COLUMN locked_until;

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

-- SAMPLE's DEPARTMENT (without its foreign keys to EMPLOYEE and to itself):
-- an employee's WORKDEPT must name one, as on a real SAMPLE database.
CREATE TABLE department (
  deptno   CHAR(3)     NOT NULL PRIMARY KEY,
  deptname VARCHAR(36) NOT NULL,
  mgrno    CHAR(6),
  admrdept CHAR(3)     NOT NULL,
  location CHAR(16)
);
INSERT INTO department (deptno, deptname, admrdept)
SELECT DISTINCT workdept, 'DEPARTMENT ' || workdept, 'A00' FROM employee WHERE workdept IS NOT NULL;
ALTER TABLE employee ADD CONSTRAINT employee_workdept FOREIGN KEY (workdept) REFERENCES department ON DELETE SET NULL;

DROP PROCEDURE login;
DROP PROCEDURE session_resolve;
DROP PROCEDURE logout;
DROP PROCEDURE logout_all;
DROP PROCEDURE purge_expired;
DROP FUNCTION audit_write;

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

-- Counts a failed PIN for an account number (known or not) and locks it at
-- p_max_failures; failures older than the lock length are forgotten first.
-- Returns the consecutive failures counted (p_max_failures: now locked).
CREATE FUNCTION login_failure(
  p_account VARCHAR, p_now TIMESTAMPTZ, p_max_failures INTEGER, p_lock_seconds INTEGER
) RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE
  v_failures INTEGER;
  v_last TIMESTAMPTZ;
BEGIN
  INSERT INTO login_guard (account_id, failures, last_failure_at)
  VALUES (p_account, 0, p_now) ON CONFLICT DO NOTHING;
  SELECT failures, last_failure_at INTO v_failures, v_last
    FROM login_guard WHERE account_id = p_account FOR UPDATE;
  IF v_last <= p_now - p_lock_seconds * INTERVAL '1 second' THEN
    v_failures := 0;
  END IF;
  v_failures := v_failures + 1;
  IF v_failures >= p_max_failures THEN
    UPDATE login_guard
       SET failures = 0, locked_until = p_now + p_lock_seconds * INTERVAL '1 second', last_failure_at = p_now
     WHERE account_id = p_account;
    RETURN p_max_failures;
  END IF;
  UPDATE login_guard SET failures = v_failures, locked_until = NULL, last_failure_at = p_now
   WHERE account_id = p_account;
  RETURN v_failures;
END
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
  v_customer_id VARCHAR(12);
  v_digest VARCHAR(64);
  v_locked_until TIMESTAMPTZ;
  v_guarded BOOLEAN;
  v_failures INTEGER;
BEGIN
  o_retry_after := 0;
  SELECT locked_until INTO v_locked_until FROM login_guard WHERE account_id = p_account;
  v_guarded := FOUND;
  SELECT customer_id, pin_digest INTO v_customer_id, v_digest FROM credential WHERE account_id = p_account;

  IF v_locked_until > p_now THEN
    o_status := 2;
    o_retry_after := CEIL(EXTRACT(EPOCH FROM (v_locked_until - p_now)));
    PERFORM audit_write(p_now, 'login', 'locked', v_customer_id, p_account, p_request_id,
                        p_client_address, p_trace_id, p_device, NULL, NULL);
    RETURN;
  END IF;

  IF v_digest IS NULL OR v_digest <> p_pin_digest THEN
    o_status := 1;
    v_failures := login_failure(p_account, p_now, p_max_failures, p_lock_seconds);
    PERFORM audit_write(p_now, 'login', 'invalid_credentials', v_customer_id, p_account, p_request_id,
                        p_client_address, p_trace_id, p_device, NULL,
                        CASE WHEN v_failures >= p_max_failures THEN 'account locked for ' || p_lock_seconds || ' s'
                             ELSE 'failure ' || v_failures || ' of ' || p_max_failures END);
    RETURN;
  END IF;

  IF v_guarded THEN
    DELETE FROM login_guard WHERE account_id = p_account;
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
-- session hash): a device the customer no longer trusts. Status: 0 ended,
-- 1 the caller's own session is gone, 2 no such session of this customer.
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
  PERFORM audit_write(p_now, 'session_end', 'ok', v_caller.customer_id, v_ended.account_id,
                      p_request_id, p_client_address, p_trace_id, v_caller.device,
                      v_caller.session_hash, 'ended session ' || p_ref);
  o_status := 0;
END
$$;

-- Deletes expired sessions (auditing each), audit rows older than
-- p_audit_before, login failure counters that are neither locked nor newer
-- than p_guard_before, and transfer days before yesterday. Safe to run from
-- many instances at once: a row is deleted, and audited, by exactly one.
CREATE PROCEDURE purge_expired(
  IN p_now TIMESTAMPTZ, IN p_audit_before TIMESTAMPTZ, IN p_guard_before TIMESTAMPTZ,
  OUT o_sessions INTEGER, OUT o_audit_rows INTEGER
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
   WHERE (locked_until IS NULL OR locked_until <= p_now) AND last_failure_at <= p_guard_before;
  DELETE FROM transfer_day WHERE business_day < CAST(p_now AT TIME ZONE 'UTC' AS DATE) - 1;
END
$$;
