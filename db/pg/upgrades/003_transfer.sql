-- Money transfer: one call, one transaction. Ownership, bank identifier,
-- currency and funds are checked here, on rows locked in a fixed order, so
-- concurrent transfers can neither overdraw nor lose an update.
-- Status: 0 booked, 1 replay of an earlier transfer (its result is returned),
-- 2 bank mismatch, 3 source account not the customer's, 4 unknown target
-- account, 5 currency mismatch, 6 insufficient funds, 7 idempotency key reused
-- with another request, 8 same source and target, 9 amount not positive.
CREATE PROCEDURE transfer(
  IN p_customer_id VARCHAR(12), IN p_session_bank_id VARCHAR(11), IN p_bank_id VARCHAR(11),
  IN p_idempotency_key VARCHAR(64), IN p_request_digest CHAR(64), IN p_transfer_id CHAR(36),
  IN p_from_account VARCHAR(20), IN p_to_account VARCHAR(20), IN p_amount DECIMAL(15,2),
  IN p_reference VARCHAR(140), IN p_now TIMESTAMPTZ, IN p_request_id VARCHAR(64),
  IN p_client_address VARCHAR(45), IN p_device VARCHAR(64), IN p_session_hash CHAR(16),
  OUT o_status INTEGER, OUT o_transfer_id CHAR(36), OUT o_from_account VARCHAR(20),
  OUT o_to_account VARCHAR(20), OUT o_amount DECIMAL(15,2), OUT o_currency CHAR(3),
  OUT o_reference VARCHAR(140), OUT o_booked_at TIMESTAMPTZ
) LANGUAGE plpgsql AS $$
DECLARE
  v_digest CHAR(64);
  v_from account%ROWTYPE;
  v_to account%ROWTYPE;
  v_row account%ROWTYPE;
  v_outcome VARCHAR(40);
BEGIN
  IF p_bank_id <> p_session_bank_id THEN
    o_status := 2;
  ELSIF p_amount <= 0 THEN
    o_status := 9;
  ELSIF p_from_account = p_to_account THEN
    o_status := 8;
  ELSE
    -- Claim the idempotency key first: a concurrent call with the same key
    -- waits here until this one commits, then sees its result.
    INSERT INTO transfer (customer_id, idempotency_key, request_digest, transfer_id,
                          from_account, to_account, amount, currency, reference, booked_at)
    VALUES (p_customer_id, p_idempotency_key, p_request_digest, p_transfer_id,
            p_from_account, p_to_account, p_amount, '???', p_reference, p_now)
    ON CONFLICT DO NOTHING;
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
                            p_request_id, p_client_address, p_device, p_session_hash,
                            'transfer ' || o_transfer_id);
        RETURN;
      END IF;
      o_transfer_id := NULL; o_from_account := NULL; o_to_account := NULL;
      o_amount := NULL; o_currency := NULL; o_reference := NULL; o_booked_at := NULL;
      o_status := 7;
    ELSE
      FOR v_row IN
        SELECT * FROM account WHERE account_id IN (p_from_account, p_to_account)
         ORDER BY account_id FOR UPDATE
      LOOP
        IF v_row.account_id = p_from_account THEN v_from := v_row; ELSE v_to := v_row; END IF;
      END LOOP;
      IF v_from.account_id IS NULL OR v_from.customer_id <> p_customer_id THEN
        o_status := 3;
      ELSIF v_to.account_id IS NULL THEN
        o_status := 4;
      ELSIF v_from.currency <> v_to.currency THEN
        o_status := 5;
      ELSIF v_from.balance < p_amount THEN
        o_status := 6;
      ELSE
        UPDATE account SET balance = balance - p_amount WHERE account_id = p_from_account;
        UPDATE account SET balance = balance + p_amount WHERE account_id = p_to_account;
        INSERT INTO ledger_entry (account_id, transfer_id, booked_at, amount, balance_after,
                                  counterparty, reference)
        VALUES (p_from_account, p_transfer_id, p_now, -p_amount, v_from.balance - p_amount,
                p_to_account, p_reference),
               (p_to_account, p_transfer_id, p_now, p_amount, v_to.balance + p_amount,
                p_from_account, p_reference);
        UPDATE transfer SET currency = v_from.currency
         WHERE customer_id = p_customer_id AND idempotency_key = p_idempotency_key;
        o_status := 0;
        o_transfer_id := p_transfer_id;
        o_from_account := p_from_account;
        o_to_account := p_to_account;
        o_amount := p_amount;
        o_currency := v_from.currency;
        o_reference := p_reference;
        o_booked_at := p_now;
      END IF;
      IF o_status <> 0 THEN
        -- Rejected: release the key so a corrected retry may use it.
        DELETE FROM transfer
         WHERE customer_id = p_customer_id AND idempotency_key = p_idempotency_key;
      END IF;
    END IF;
  END IF;

  v_outcome := CASE o_status
    WHEN 0 THEN 'ok' WHEN 2 THEN 'bank_mismatch' WHEN 3 THEN 'not_found'
    WHEN 4 THEN 'unknown_account' WHEN 5 THEN 'currency_mismatch'
    WHEN 6 THEN 'insufficient_funds' WHEN 7 THEN 'idempotency_key_reused'
    WHEN 8 THEN 'same_account' ELSE 'validation_failed' END;
  PERFORM audit_write(p_now, 'transfer', v_outcome, p_customer_id, p_from_account,
                      p_request_id, p_client_address, p_device, p_session_hash,
                      CASE WHEN o_status = 0
                           THEN 'transfer ' || p_transfer_id || ' to ' || p_to_account
                                || ' ' || p_amount || ' ' || o_currency
                           ELSE 'to ' || p_to_account || ' ' || p_amount END);
END
$$;
