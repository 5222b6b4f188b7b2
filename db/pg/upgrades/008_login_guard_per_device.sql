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
-- Db2 twins: db/db2/migrations/002_schema.sql, 003_sessions.sql, 004_transfer.sql.

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

-- One guard row per account number and bucket: the thumbprint of a known
-- device, or '*' for everything else. The row exists from the first attempt
-- that needed it (its lock is what serialises attempts), so last_failure_at
-- is NULL until its first failure.
ALTER TABLE login_guard ADD COLUMN device_bucket VARCHAR(43) NOT NULL DEFAULT '*';
ALTER TABLE login_guard ALTER COLUMN last_failure_at DROP NOT NULL;
ALTER TABLE login_guard ALTER COLUMN device_bucket DROP DEFAULT;
ALTER TABLE login_guard DROP CONSTRAINT login_guard_pkey;
ALTER TABLE login_guard ADD PRIMARY KEY (account_id, device_bucket);

DROP PROCEDURE login;
DROP PROCEDURE transfer;
DROP PROCEDURE session_end;
DROP PROCEDURE purge_expired;
DROP FUNCTION login_failure;

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

-- Transfer, as in 006, with the step-up PIN under the guard above: the
-- session's device key (p_jkt, NULL for a bearer session) chooses the bucket.
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
