// Accounts, the ledger and transfers. Ownership is part of every statement's
// key, so another customer's account reads exactly like a missing one.
import type { Host, HostValue, Row } from './host.js';
import type { RequestContext } from './sessions.js';
import { statements } from './statements.js';
import { asDate, asMoney, asNumber, asString, asTrimmed, unexpectedStatus } from './values.js';

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

export async function listAccounts(host: Host, customerId: string): Promise<Account[]> {
  const rows = await host.query(statements.accountsOfCustomer, [customerId]);
  return rows.map((row) => ({
    accountId: asString(row.account_id),
    bankId: asString(row.bank_id),
    kind: asString(row.kind),
    currency: asString(asTrimmed(row.currency)),
    balance: asMoney(row.balance),
  }));
}

/** Larger than any entry id: the first page's cursor. */
const NEWEST = '9223372036854775807';

/**
 * A page of the account's ledger, newest first, entries with id below `before`.
 * Null when the account does not exist or is not the customer's.
 */
export async function ledgerPage(
  host: Host, customerId: string, accountId: string, limit: number, before: string | null,
): Promise<{ items: LedgerEntry[]; nextBefore: string | null } | null> {
  // One more row than asked tells whether a next page exists, at no extra round trip.
  const rows = await host.query(statements.ledgerPage, [before ?? NEWEST, accountId, customerId, limit + 1]);
  if (rows.length === 0) return null;
  const entries = rows.filter((row) => row.entry_id !== null);
  const page = entries.slice(0, limit);
  return {
    items: page.map(toLedgerEntry),
    nextBefore: entries.length > limit ? String(page[page.length - 1].entry_id) : null,
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

export interface TransferInput extends RequestContext {
  customerId: string;
  sessionBankId: string;
  sessionHash: string;
  device: string | null;
  bankId: string;
  idempotencyKey: string;
  requestDigest: string;
  transferId: string;
  fromAccount: string;
  toAccount: string;
  amount: string;
  reference: string | null;
  now: Date;
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

export type TransferRejection =
  | 'bank_mismatch' | 'not_found' | 'unknown_account' | 'currency_mismatch'
  | 'insufficient_funds' | 'idempotency_key_reused' | 'same_account' | 'invalid_amount';

export type TransferOutcome =
  | { status: 'booked' | 'replayed'; transfer: Transfer }
  | { status: TransferRejection };

const REJECTIONS: Record<number, TransferRejection> = {
  2: 'bank_mismatch', 3: 'not_found', 4: 'unknown_account', 5: 'currency_mismatch',
  6: 'insufficient_funds', 7: 'idempotency_key_reused', 8: 'same_account', 9: 'invalid_amount',
};

export async function transfer(host: Host, input: TransferInput): Promise<TransferOutcome> {
  const args: Record<string, HostValue> = {
    customer_id: input.customerId, session_bank_id: input.sessionBankId, bank_id: input.bankId,
    idempotency_key: input.idempotencyKey, request_digest: input.requestDigest,
    transfer_id: input.transferId, from_account: input.fromAccount, to_account: input.toAccount,
    amount: input.amount, reference: input.reference, now: input.now,
    request_id: input.requestId, client_address: input.clientAddress, device: input.device,
    session_hash: input.sessionHash,
  };
  const out = await host.call('transfer', args);
  const status = asNumber(out.status);
  if (status !== 0 && status !== 1) return { status: REJECTIONS[status] ?? unexpectedStatus('transfer', status) };
  return {
    status: status === 0 ? 'booked' : 'replayed',
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
