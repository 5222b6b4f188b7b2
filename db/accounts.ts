// Accounts, the ledger and transfers. Ownership is part of every statement's
// key, so another customer's account reads exactly like a missing one.
import type { CallContext, Host, HostValue, RequestContext, Row } from './host.js';
import { auditArgs, outcomeOf, type Outcome } from './procedures.js';
import { statements } from './statements.js';
import { asDate, asMoney, asNumber, asString, asTrimmed, LARGEST_KEY, nextKey } from './values.js';

export interface Account {
  accountId: string;
  bankId: string;
  kind: string;
  currency: string;
  balance: string;
}

export interface LedgerEntry {
  transactionId: string;
  bookedAt: Date;
  amount: string;
  balanceAfter: string;
  counterparty: string | null;
  reference: string | null;
}

export async function listAccounts(host: Host, customerId: string, context?: CallContext): Promise<Account[]> {
  const rows = await host.query(statements.accountsOfCustomer, [customerId], context);
  return rows.map((row) => ({
    accountId: asString(row.account_id),
    bankId: asString(row.bank_id),
    kind: asString(row.kind),
    currency: asString(asTrimmed(row.currency)),
    balance: asMoney(row.balance),
  }));
}

/**
 * A page of the account's ledger, newest first, entries with id below `before`.
 * Null when the account does not exist or is not the customer's.
 */
export async function ledgerPage(
  host: Host, customerId: string, accountId: string, limit: number, before: string | null, context?: CallContext,
): Promise<{ items: LedgerEntry[]; nextBefore: string | null } | null> {
  // One more row than asked tells whether a next page exists, at no extra round trip.
  const rows = await host.query(statements.ledgerPage, [before ?? LARGEST_KEY, accountId, customerId, limit + 1], context);
  if (rows.length === 0) return null;
  const entries = rows.filter((row) => row.entry_id !== null);
  const page = entries.slice(0, limit);
  return {
    items: page.map(toLedgerEntry),
    nextBefore: nextKey(page, entries.length > limit, 'entry_id'),
  };
}

function toLedgerEntry(row: Row): LedgerEntry {
  return {
    transactionId: String(row.entry_id),
    bookedAt: asDate(row.booked_at),
    amount: asMoney(row.amount),
    balanceAfter: asMoney(row.balance_after),
    counterparty: asTrimmed(row.counterparty),
    reference: asTrimmed(row.reference),
  };
}

/** How a transfer was authorised, for the audit row: the method and a digest of its proof, never the proof. */
export type AuthMethod = 'bearer' | 'signed' | 'signed+pin' | 'bearer+pin';

export interface TransferInput extends RequestContext {
  customerId: string;
  /** The account number the session logged in with: its PIN is the step-up's, under its lockout. */
  loginAccount: string;
  sessionBankId: string;
  sessionHash: string;
  device: string | null;
  /** The session's device key (its failures at step-up count in that device's bucket), or null for a bearer session. */
  jkt: string | null;
  bankId: string;
  idempotencyKey: string;
  requestDigest: string;
  transferId: string;
  fromAccount: string;
  toAccount: string;
  amount: string;
  reference: string | null;
  /** The currency the device signed, checked against the account's on the host; null when unsigned. */
  signedCurrency: string | null;
  authMethod: AuthMethod;
  /** SHA-256 (hex) of the device's signature, when signed. */
  authDigest: string | null;
  /** The step-up PIN's digest, when the amount needs one. */
  pinDigest: string | null;
  limits: TransferLimits;
  now: Date;
}

/** What the host enforces per customer (configuration, passed on every call so every instance agrees). */
export interface TransferLimits {
  maxFailures: number;
  lockSeconds: number;
  payeeMaxFailures: number;
  dailyAmount: string;
  dailyCount: number;
}

export interface Transfer {
  transferId: string;
  fromAccount: string;
  toAccount: string;
  amount: string;
  currency: string;
  reference: string | null;
  bookedAt: Date;
}

export type TransferRejection = Exclude<Outcome<'transfer'>, 'booked' | 'replayed'>;

export type TransferOutcome =
  | { status: 'booked'; transfer: Transfer }
  | { status: 'replayed'; transfer: Transfer }
  | { status: TransferRejection; retryAfterSeconds: number };

export async function transfer(host: Host, input: TransferInput): Promise<TransferOutcome> {
  const args: Record<string, HostValue> = {
    customer_id: input.customerId, login_account: input.loginAccount, session_bank_id: input.sessionBankId,
    bank_id: input.bankId, idempotency_key: input.idempotencyKey, request_digest: input.requestDigest,
    transfer_id: input.transferId, from_account: input.fromAccount, to_account: input.toAccount,
    amount: input.amount, reference: input.reference, signed_currency: input.signedCurrency,
    auth_method: input.authMethod, auth_digest: input.authDigest, pin_digest: input.pinDigest,
    max_failures: input.limits.maxFailures, lock_seconds: input.limits.lockSeconds,
    payee_max_failures: input.limits.payeeMaxFailures, daily_amount_limit: input.limits.dailyAmount,
    daily_count_limit: input.limits.dailyCount, now: input.now, ...auditArgs(input),
    device: input.device, session_hash: input.sessionHash, jkt: input.jkt,
  };
  const out = await host.call('transfer', args, input);
  const status = outcomeOf('transfer', out.status);
  if (status !== 'booked' && status !== 'replayed') return { status, retryAfterSeconds: Math.max(1, asNumber(out.retry_after)) };
  return {
    status,
    transfer: {
      transferId: asString(asTrimmed(out.transfer_id)),
      fromAccount: asString(out.from_account),
      toAccount: asString(out.to_account),
      amount: asMoney(out.amount),
      currency: asString(asTrimmed(out.currency)),
      reference: asTrimmed(out.reference),
      bookedAt: asDate(out.booked_at),
    },
  };
}
