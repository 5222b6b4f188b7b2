-- Stored procedures of the host, PL/pgSQL. Their Db2 twins are in
-- db/db2/migrations/: same names, parameter order and status codes.
-- Every procedure that changes state writes its audit row itself, in the same
-- transaction, so an action and its record commit or roll back together.
-- The API passes the clock (p_now) so every instance and the tests agree on it.

CREATE FUNCTION audit_write(
  p_now TIMESTAMPTZ, p_event VARCHAR, p_outcome VARCHAR, p_customer_id VARCHAR,
  p_account_id VARCHAR, p_request_id VARCHAR, p_client_address VARCHAR,
  p_device VARCHAR, p_session_hash CHAR, p_detail VARCHAR
) RETURNS VOID LANGUAGE sql AS $$
  INSERT INTO audit_log (at, event, outcome, customer_id, account_id, request_id,
                         client_address, device, session_hash, detail)
  VALUES (p_now, p_event, p_outcome, p_customer_id, p_account_id, p_request_id,
          p_client_address, p_device, p_session_hash, p_detail)
$$;

-- Status: 0 ok (session row created), 1 invalid credentials, 2 locked.
CREATE PROCEDURE login(
  IN p_session_id CHAR(36), IN p_session_hash CHAR(16), IN p_account VARCHAR(20),
  IN p_pin_digest VARCHAR(64), IN p_device VARCHAR(64), IN p_request_id VARCHAR(64),
  IN p_client_address VARCHAR(45), IN p_now TIMESTAMPTZ, IN p_idle_seconds INTEGER,
  IN p_absolute_seconds INTEGER, IN p_max_failures INTEGER, IN p_lock_seconds INTEGER,
  OUT o_status INTEGER, OUT o_customer_id VARCHAR(12), OUT o_bank_id VARCHAR(11),
  OUT o_role VARCHAR(8), OUT o_retry_after INTEGER
) LANGUAGE plpgsql AS $$
DECLARE
  v_customer_id VARCHAR(12);
  v_digest VARCHAR(64);
  v_failures INTEGER;
  v_locked_until TIMESTAMPTZ;
BEGIN
  o_retry_after := 0;
  SELECT customer_id, pin_digest, failures, locked_until
    INTO v_customer_id, v_digest, v_failures, v_locked_until
    FROM credential WHERE account_id = p_account FOR UPDATE;
  IF NOT FOUND THEN
    o_status := 1;
    PERFORM audit_write(p_now, 'login', 'invalid_credentials', NULL, p_account,
                        p_request_id, p_client_address, p_device, NULL, NULL);
    RETURN;
  END IF;

  IF v_locked_until IS NOT NULL AND v_locked_until > p_now THEN
    o_status := 2;
    o_retry_after := CEIL(EXTRACT(EPOCH FROM (v_locked_until - p_now)));
    PERFORM audit_write(p_now, 'login', 'locked', v_customer_id, p_account,
                        p_request_id, p_client_address, p_device, NULL, NULL);
    RETURN;
  END IF;

  IF v_digest <> p_pin_digest THEN
    o_status := 1;
    IF v_failures + 1 >= p_max_failures THEN
      UPDATE credential
         SET failures = 0, locked_until = p_now + p_lock_seconds * INTERVAL '1 second'
       WHERE account_id = p_account;
      PERFORM audit_write(p_now, 'login', 'invalid_credentials', v_customer_id, p_account,
                          p_request_id, p_client_address, p_device, NULL,
                          'account locked for ' || p_lock_seconds || ' s');
    ELSE
      UPDATE credential SET failures = v_failures + 1, locked_until = NULL
       WHERE account_id = p_account;
      PERFORM audit_write(p_now, 'login', 'invalid_credentials', v_customer_id, p_account,
                          p_request_id, p_client_address, p_device, NULL,
                          'failure ' || (v_failures + 1) || ' of ' || p_max_failures);
    END IF;
    RETURN;
  END IF;

  IF v_failures <> 0 OR v_locked_until IS NOT NULL THEN
    UPDATE credential SET failures = 0, locked_until = NULL WHERE account_id = p_account;
  END IF;
  SELECT bank_id, role INTO o_bank_id, o_role FROM customer WHERE customer_id = v_customer_id;
  INSERT INTO host_session (session_id, session_hash, customer_id, account_id, bank_id, role,
                            device, created_at, last_seen_at, idle_expires_at, absolute_expires_at)
  VALUES (p_session_id, p_session_hash, v_customer_id, p_account, o_bank_id, o_role, p_device,
          p_now, p_now,
          LEAST(p_now + p_idle_seconds * INTERVAL '1 second',
                p_now + p_absolute_seconds * INTERVAL '1 second'),
          p_now + p_absolute_seconds * INTERVAL '1 second');
  PERFORM audit_write(p_now, 'login', 'ok', v_customer_id, p_account,
                      p_request_id, p_client_address, p_device, p_session_hash, NULL);
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
  OUT o_status INTEGER, OUT o_customer_id VARCHAR(12), OUT o_account_id VARCHAR(20),
  OUT o_bank_id VARCHAR(11), OUT o_role VARCHAR(8), OUT o_device VARCHAR(64),
  OUT o_session_hash CHAR(16), OUT o_created_at TIMESTAMPTZ, OUT o_last_seen_at TIMESTAMPTZ,
  OUT o_idle_expires_at TIMESTAMPTZ, OUT o_absolute_expires_at TIMESTAMPTZ
) LANGUAGE plpgsql AS $$
BEGIN
  SELECT customer_id, account_id, bank_id, role, device, session_hash, created_at,
         last_seen_at, idle_expires_at, absolute_expires_at
    INTO o_customer_id, o_account_id, o_bank_id, o_role, o_device, o_session_hash,
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
                          p_request_id, p_client_address, o_device, o_session_hash,
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
  IN p_now TIMESTAMPTZ, OUT o_status INTEGER
) LANGUAGE plpgsql AS $$
DECLARE
  v_row host_session%ROWTYPE;
BEGIN
  DELETE FROM host_session WHERE session_id = p_session_id RETURNING * INTO v_row;
  IF NOT FOUND THEN
    o_status := 1;
    RETURN;
  END IF;
  PERFORM audit_write(p_now, 'logout', 'ok', v_row.customer_id, v_row.account_id,
                      p_request_id, p_client_address, v_row.device, v_row.session_hash, NULL);
  o_status := 0;
END
$$;

-- Deletes every session of the customer who owns p_session_id.
-- Status: 0 done (o_sessions rows deleted), 1 no such session.
CREATE PROCEDURE logout_all(
  IN p_session_id CHAR(36), IN p_request_id VARCHAR(64), IN p_client_address VARCHAR(45),
  IN p_now TIMESTAMPTZ, OUT o_status INTEGER, OUT o_sessions INTEGER
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
  PERFORM audit_write(p_now, 'logout_all', 'ok', v_row.customer_id, v_row.account_id,
                      p_request_id, p_client_address, v_row.device, v_row.session_hash,
                      o_sessions || ' sessions');
  o_status := 0;
END
$$;

-- Deletes expired sessions (auditing each) and audit rows older than
-- p_audit_before. Safe to run from many instances at once: a row is deleted,
-- and audited, by exactly one of them.
CREATE PROCEDURE purge_expired(
  IN p_now TIMESTAMPTZ, IN p_audit_before TIMESTAMPTZ,
  OUT o_sessions INTEGER, OUT o_audit_rows INTEGER
) LANGUAGE plpgsql AS $$
BEGIN
  WITH gone AS (
    DELETE FROM host_session
     WHERE idle_expires_at <= p_now OR absolute_expires_at <= p_now
    RETURNING customer_id, account_id, device, session_hash, absolute_expires_at
  )
  INSERT INTO audit_log (at, event, outcome, customer_id, account_id, device, session_hash, detail)
  SELECT p_now, 'session_expired', 'ok', customer_id, account_id, device, session_hash,
         CASE WHEN absolute_expires_at <= p_now THEN 'purged, absolute' ELSE 'purged, idle' END
    FROM gone;
  GET DIAGNOSTICS o_sessions = ROW_COUNT;
  DELETE FROM audit_log WHERE at < p_audit_before;
  GET DIAGNOSTICS o_audit_rows = ROW_COUNT;
END
$$;
