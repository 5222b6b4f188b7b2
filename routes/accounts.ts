// /api/accounts and /api/transfers: only ever the session's own customer's
// accounts; another customer's account is a 404 exactly like a missing one.
import { createHash } from 'node:crypto';
import { array, object, string } from 'yup';
import { v4 as uuidv4 } from 'uuid';
import { checkTransferSignature } from '../auth/transfer-signature.js';
import { cents, twoPlaces } from '../contract/money.js';
import { invalid, problem, type ProblemCode } from '../contract/problems.js';
import { ledgerPage, listAccounts, transfer, type TransferRejection } from '../db/accounts.js';
import { route, type RouteDeps, type RouteSpec } from './define.js';
import { cursorQuery, encodeCursor, hostText, keyOf, limitQuery, money, signedMoney, timestamp } from './schemas.js';

const accountId = () => string().matches(/^\d{6,20}$/, 'must be 6 to 20 digits');

const accountSchema = object({
  accountId: string().required(),
  bankId: string().required(),
  kind: string().required().meta({ example: 'current' }),
  currency: string().required().meta({ example: 'EUR' }),
  balance: signedMoney().required().meta({ example: '1000.00' }),
});

const entrySchema = object({
  transactionId: string().required(),
  bookedAt: timestamp().required(),
  amount: signedMoney().required(),
  balanceAfter: signedMoney().required(),
  counterparty: string().nullable().defined(),
  reference: string().nullable().defined(),
});

const transferBody = object({
  bankId: string().required().matches(/^[A-Z0-9]{1,11}$/, 'must be 1 to 11 upper-case letters or digits'),
  fromAccount: accountId().required(),
  toAccount: accountId().required(),
  amount: money().required()
    .test('positive', 'must be greater than 0.00', (value) => value === undefined || Number(value) > 0),
  reference: hostText(140),
  pin: string().matches(/^\d{4,8}$/, 'must be 4 to 8 digits')
    .meta({ description: 'The PIN again (step-up): required above the step-up amount, checked and counted toward the lockout as at login.' }),
}).noUnknown().strict();

const transferSchema = object({
  transferId: string().required(),
  fromAccount: string().required(),
  toAccount: string().required(),
  amount: signedMoney().required(),
  currency: string().required(),
  reference: string().nullable().defined(),
  bookedAt: timestamp().required(),
});

const transferHeaders = object({
  'Idempotency-Key': string().required()
    .matches(/^[\x21-\x7e]{8,64}$/, 'must be 8 to 64 visible ASCII characters')
    .meta({ description: 'Unique per transfer; a retry with the same key and body returns the original result.' }),
  'Transfer-Signature': string().max(4096).matches(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'must be a compact JWS')
    .meta({ description: 'Required on a device-bound session: a JWS (typ transfer+jwt) by the device key over '
      + '{fromAccount, toAccount, amount, currency, idempotencyKey, iat}. Change any of them and the transfer is refused.' }),
});

/** Same key with the same body is a replay; the digest tells the bodies apart. */
function requestDigest(body: { bankId: string; fromAccount: string; toAccount: string; amount: string; reference?: string }): string {
  const canonical = JSON.stringify([body.bankId, body.fromAccount, body.toAccount, twoPlaces(body.amount), body.reference ?? null]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** The problem each refusal of the transfer procedure is; the ones with a wait say how long. */
const REFUSALS: Record<Exclude<TransferRejection, 'invalid_amount'>, ProblemCode> = {
  bank_mismatch: 'bank_mismatch', not_found: 'not_found', unknown_account: 'unknown_account', currency_mismatch: 'currency_mismatch',
  insufficient_funds: 'insufficient_funds', idempotency_key_reused: 'idempotency_key_reused', same_account: 'same_account',
  payee_checks_exhausted: 'payee_checks_exhausted', limit_exceeded: 'limit_exceeded', step_up_failed: 'step_up_failed',
  account_locked: 'account_locked', signature_mismatch: 'invalid_signature',
};
const WAITS: readonly TransferRejection[] = ['payee_checks_exhausted', 'account_locked'];

function refusal(rejection: TransferRejection, retryAfterSeconds: number) {
  if (rejection === 'invalid_amount') return invalid([{ path: 'amount', message: 'must be greater than 0.00' }]);
  const detail = rejection === 'not_found' ? 'No such account.' : undefined;
  return problem(REFUSALS[rejection], { detail, retryAfter: WAITS.includes(rejection) ? retryAfterSeconds : undefined });
}

const TAG = 'Accounts';

export function accountRoutes({ host, auth, transferPolicy }: RouteDeps): RouteSpec[] {
  return [
    route({
      method: 'get', path: '/api/accounts', operationId: 'listAccounts', tag: TAG, access: 'session',
      summary: 'The session customer\u2019s accounts',
      responses: { 200: { description: 'Accounts', schema: object({ items: array(accountSchema).required() }) } },
      problems: [],
      async handle({ session, context }) {
        return { status: 200, body: { items: await listAccounts(host, session.customerId, context) } };
      },
    }),
    route({
      method: 'get', path: '/api/accounts/{accountId}/transactions', operationId: 'listTransactions', tag: TAG, access: 'session',
      summary: 'An account\u2019s transactions, newest first',
      description: 'Keyset pagination: pass nextCursor as cursor for the next page; null when there is none.',
      params: object({ accountId: accountId().required() }),
      query: object({ limit: limitQuery(), cursor: cursorQuery() }).noUnknown(),
      responses: { 200: { description: 'A page of transactions', schema: object({ items: array(entrySchema).required(), nextCursor: string().nullable().defined() }) } },
      problems: [404],
      async handle({ params, query, session, context }) {
        const page = await ledgerPage(host, session.customerId, params.accountId, query.limit, keyOf(query.cursor), context);
        if (!page) throw problem('not_found', { detail: 'No such account.' });
        return { status: 200, body: { items: page.items, nextCursor: page.nextBefore && encodeCursor(page.nextBefore) } };
      },
    }),
    route({
      method: 'post', path: '/api/transfers', operationId: 'createTransfer', tag: 'Transfers', access: 'session',
      summary: 'Move money between two accounts',
      description: 'One host transaction books both legs. bankId must be the session\u2019s bank (403 bank_mismatch); '
        + 'fromAccount must be the customer\u2019s (404); toAccount an account of the same bank (422 unknown_account, and '
        + 'too many of those in a day block transfers: 429 payee_checks_exhausted). A device-bound session signs the transfer '
        + '(Transfer-Signature); above the step-up amount the PIN is sent again (pin). Daily amount and count limits: 422 '
        + 'limit_exceeded. Replaying the same Idempotency-Key and body returns the original transfer.',
      headers: transferHeaders,
      body: transferBody,
      responses: { 201: { description: 'Booked, or the original result of a replay', schema: transferSchema } },
      problems: [403, 404, 409, 422, 423, 429],
      async handle({ body, headers, session, proof, context, now }) {
        const idempotencyKey = headers['Idempotency-Key'];
        // Possession: on a bound session the device signs the transfer itself (dynamic linking).
        const signature = proof ? checkTransferSignature(headers['Transfer-Signature'], proof.key, { ...body, idempotencyKey }, now) : null;
        // Knowledge: above the step-up amount, the PIN again, checked by the host as at login.
        // Both are amounts already (the body's schema, the configuration), so neither is null.
        const stepUp = (cents(body.amount) ?? 0) > (cents(transferPolicy.stepUpAmount) ?? 0);
        if (stepUp && body.pin === undefined) {
          throw problem('step_up_required', { detail: `Transfers above ${transferPolicy.stepUpAmount} need the PIN again (field pin).` });
        }
        const pinDigest = stepUp && body.pin !== undefined ? await auth.digestPin(session.accountId, body.pin) : null;
        const authMethod = `${signature ? 'signed' : 'bearer'}${pinDigest ? '+pin' : ''}` as const;
        const outcome = await transfer(host, {
          ...context,
          customerId: session.customerId, loginAccount: session.accountId, sessionBankId: session.bankId,
          sessionHash: session.sessionHash, device: session.device, jkt: session.jkt,
          bankId: body.bankId, idempotencyKey, requestDigest: requestDigest(body),
          transferId: uuidv4(), fromAccount: body.fromAccount, toAccount: body.toAccount, amount: body.amount,
          reference: body.reference ?? null, signedCurrency: signature?.currency ?? null, authMethod,
          authDigest: signature?.digest ?? null, pinDigest, limits: transferPolicy, now,
        });
        if (outcome.status === 'booked' || outcome.status === 'replayed') {
          return { status: 201, body: outcome.transfer, headers: { 'Idempotent-Replayed': String(outcome.status === 'replayed') } };
        }
        throw refusal(outcome.status, outcome.retryAfterSeconds);
      },
    }),
  ];
}
