-- Tables of the host: the Db2 SAMPLE EMPLOYEE table, the bank's customers,
-- accounts and ledger, login credentials, host sessions (the scratch pad) and
-- the audit trail. Timestamps are UTC (timestamptz here, TIMESTAMP on Db2).

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
  comm       DECIMAL(9,2)
);
CREATE INDEX employee_workdept ON employee (workdept, empno);

CREATE TABLE customer (
  customer_id VARCHAR(12) NOT NULL PRIMARY KEY,
  name        VARCHAR(60) NOT NULL,
  bank_id     VARCHAR(11) NOT NULL,
  role        VARCHAR(8)  NOT NULL CHECK (role IN ('customer', 'staff'))
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
  account_id   VARCHAR(20) NOT NULL PRIMARY KEY REFERENCES account,
  customer_id  VARCHAR(12) NOT NULL REFERENCES customer,
  pin_digest   VARCHAR(64) NOT NULL,
  failures     SMALLINT    NOT NULL DEFAULT 0,
  locked_until TIMESTAMPTZ
);

-- The session "scratch pad area": one row per live session, keyed by the
-- UUID the API generated. Deleting the row kills every token naming it.
CREATE TABLE host_session (
  session_id          CHAR(36)      NOT NULL PRIMARY KEY,
  session_hash        CHAR(16)      NOT NULL,
  customer_id         VARCHAR(12)   NOT NULL REFERENCES customer,
  account_id          VARCHAR(20)   NOT NULL,
  bank_id             VARCHAR(11)   NOT NULL,
  role                VARCHAR(8)    NOT NULL,
  device              VARCHAR(64),
  created_at          TIMESTAMPTZ   NOT NULL,
  last_seen_at        TIMESTAMPTZ   NOT NULL,
  idle_expires_at     TIMESTAMPTZ   NOT NULL,
  absolute_expires_at TIMESTAMPTZ   NOT NULL,
  scratchpad          VARCHAR(4096) NOT NULL DEFAULT '{}'
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
  at             TIMESTAMPTZ  NOT NULL,
  event          VARCHAR(20)  NOT NULL,
  outcome        VARCHAR(40)  NOT NULL,
  customer_id    VARCHAR(12),
  account_id     VARCHAR(20),
  request_id     VARCHAR(64),
  client_address VARCHAR(45),
  device         VARCHAR(64),
  session_hash   CHAR(16),
  detail         VARCHAR(200)
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_customer ON audit_log (customer_id, audit_id);
