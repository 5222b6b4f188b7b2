-- Money transfer, second version: one call, one transaction. Besides
-- ownership, bank identifier, currency and funds (checked on rows locked in a
-- fixed order, so concurrent transfers can neither overdraw nor lose an
-- update), the host now checks:
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
--   compared and counted toward the lockout as at login;
-- - the currency a device signed (p_signed_currency, NULL when unsigned).
-- Status: 0 booked, 1 replay of an earlier transfer (its result is returned),
-- 2 bank mismatch, 3 source account not the customer's, 4 unknown payee,
-- 5 currency mismatch, 6 insufficient funds, 7 idempotency key reused with
-- another request, 8 same source and target, 9 amount not positive, 10 payee
-- checks exhausted for the day (o_retry_after), 11 daily limit exceeded,
-- 12 step-up PIN wrong, 13 account locked (o_retry_after), 14 signed
-- currency is not the account's.

DROP PROCEDURE transfer;

CREATE PROCEDURE transfer(
  IN p_customer_id VARCHAR(12), IN p_login_account VARCHAR(20), IN p_session_bank_id VARCHAR(11),
  IN p_bank_id VARCHAR(11), IN p_idempotency_key VARCHAR(64), IN p_request_digest CHAR(64),
  IN p_transfer_id CHAR(36), IN p_from_account VARCHAR(20), IN p_to_account VARCHAR(20),
  IN p_amount DECIMAL(15,2), IN p_reference VARCHAR(140), IN p_signed_currency CHAR(3),
  IN p_auth_method VARCHAR(16), IN p_auth_digest CHAR(64), IN p_pin_digest VARCHAR(64),
  IN p_max_failures INTEGER, IN p_lock_seconds INTEGER, IN p_payee_max_failures INTEGER,
  IN p_daily_amount_limit DECIMAL(15,2), IN p_daily_count_limit INTEGER, IN p_now TIMESTAMPTZ,
  IN p_request_id VARCHAR(64), IN p_client_address VARCHAR(45), IN p_trace_id CHAR(32),
  IN p_device VARCHAR(64), IN p_session_hash CHAR(16),
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
  v_locked_until TIMESTAMPTZ;
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
    -- Step-up: the PIN of the account this session logged in with, under the login's lockout.
    SELECT locked_until INTO v_locked_until FROM login_guard WHERE account_id = p_login_account;
    IF v_locked_until > p_now THEN
      o_status := 13;
      o_retry_after := CEIL(EXTRACT(EPOCH FROM (v_locked_until - p_now)));
    ELSIF NOT EXISTS (SELECT 1 FROM credential
                       WHERE account_id = p_login_account AND pin_digest = p_pin_digest) THEN
      v_failures := login_failure(p_login_account, p_now, p_max_failures, p_lock_seconds);
      o_status := 12;
    ELSE
      DELETE FROM login_guard WHERE account_id = p_login_account;
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
                           ELSE 'to ' || p_to_account || ' ' || p_amount || ' ' || v_auth END);
END
$$;
