// BankClient: the one class an app uses. It keeps the device key, signs every
// proof and every transfer, and retries transfers safely; its SessionKeeper
// refreshes the token, notices when the session is over and logs in again.
import {
  bodyOf, exchangeFor, type Account, type CallInput, type DeviceSession, type Employee, type EmployeeChanges, type EmployeePage,
  type EmployeeQuery, type NewEmployee, type RoutedOperation, type Session, type Success, type TransactionPage, type TransactionQuery,
  type Transfer,
} from './contract.js';
import { DeviceKey, type DeviceAlgorithm, type PublicJwk } from './device-key.js';
import { ClientError, NetworkError, NotFound, ServiceUnavailable, SessionExpired } from './errors.js';
import { MemoryKeyStore, type KeyStore } from './key-store.js';
import { SessionKeeper, type Credentials, type HeldSession, type SessionChange } from './session.js';
import { Transport } from './transport.js';

export type { Credentials, SessionChange } from './session.js';

export interface RetryPolicy {
  /** Tries of one transfer in all, the first included. */
  attempts: number;
  /** How long to wait before try `attempt + 1`; retryAfterSeconds is the service's Retry-After, when it sent one. */
  delayMs(attempt: number, retryAfterSeconds: number | null): number;
}

export interface BankClientOptions {
  /** The service's origin as this device addresses it (proofs name it); in a page, location.origin. */
  baseUrl: string;
  /** Keeps the device key between runs: in memory unless given (a browser app passes an IndexedDbKeyStore). */
  keyStore?: KeyStore;
  /** The key type a new device gets. */
  algorithm?: DeviceAlgorithm;
  /** The clock that dates proofs and signatures and reads deadlines; it must agree with the service's within seconds. */
  now?: () => Date;
  fetch?: typeof fetch;
  /** Refresh the token when it has less than this left and the session would outlive it (default 60). */
  refreshMarginSeconds?: number;
  /** A request with no whole answer by then is a network failure (default 30 000). */
  requestTimeoutMs?: number;
  /** How transfers are retried after a network failure or a 503 (default: 4 tries, Retry-After or 0.25 s doubling). */
  retry?: Partial<RetryPolicy>;
  /**
   * Called when a call finds the session over. Return credentials (ask the
   * user for the PIN) to log in again with the same device key and carry on
   * with the call, or null to let it fail with SessionExpired.
   */
  reauthenticate?: (expired: SessionExpired) => Promise<Credentials | null>;
  onSessionChange?: (change: SessionChange) => void;
}

export interface TransferRequest {
  fromAccount: string;
  toAccount: string;
  /** Decimal string, at most two places: "25.00". */
  amount: string;
  reference?: string;
  /** The PIN again: needed above the service's step-up amount (else StepUpRequired). */
  pin?: string;
  /** To finish or look up a transfer that failed with ClientError.idempotencyKey set; a new one otherwise. */
  idempotencyKey?: string;
}

export interface TransferResult extends Transfer {
  /** True when the service answered with the original booking of an earlier try. */
  replayed: boolean;
  idempotencyKey: string;
}

/** Transfers carry a signature the service accepts for 300 s around its iat; sign again well before. */
const SIGNATURE_FRESH_SECONDS = 240;

const DEFAULT_RETRY: RetryPolicy = {
  attempts: 4,
  delayMs: (attempt, retryAfterSeconds) => Math.min(retryAfterSeconds !== null ? retryAfterSeconds * 1000 : 250 * 2 ** (attempt - 1), 10_000),
};

export class BankClient {
  private readonly keeper: SessionKeeper;
  private readonly keyStore: KeyStore;
  private readonly now: () => Date;
  private readonly retry: RetryPolicy;
  private key: Promise<DeviceKey> | null = null;
  /** Each account's currency, from the last account list: the device signs the from-account's. */
  private readonly currencies = new Map<string, string>();

  constructor(private readonly options: BankClientOptions) {
    this.keyStore = options.keyStore ?? new MemoryKeyStore();
    this.now = options.now ?? (() => new Date());
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    // A browser's fetch must be called unbound from window: wrap it rather than store the method.
    const fetcher = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
    const transport = new Transport({
      baseUrl: options.baseUrl, fetch: fetcher, now: this.now, deviceKey: () => this.deviceKey(), timeoutMs: options.requestTimeoutMs ?? 30_000,
    });
    this.keeper = new SessionKeeper(transport, {
      now: this.now,
      refreshMarginSeconds: options.refreshMarginSeconds ?? 60,
      reauthenticate: options.reauthenticate,
      onChange: (change) => {
        if (change.reason !== 'refresh') this.currencies.clear();
        options.onSessionChange?.(change);
      },
    });
  }

  /** The session as last reported, or null when logged out. */
  get session(): Session | null {
    return this.keeper.current?.session ?? null;
  }

  /** When the session ends if nothing more is done (the idle deadline, at most the absolute one); null when logged out. */
  get idleExpiresAt(): Date | null {
    const held = this.keeper.current;
    return held ? new Date(Math.min(held.idleDeadline, Date.parse(held.session.absoluteExpiresAt))) : null;
  }

  /** The device key's public half, made on first use. */
  async devicePublicKey(): Promise<PublicJwk> {
    return (await this.deviceKey()).publicJwk;
  }

  /** RFC 7638 thumbprint of the device key: how the service names this device (cnf.jkt). */
  async deviceThumbprint(): Promise<string> {
    return (await this.deviceKey()).thumbprint();
  }

  /** Logs in, bound to this device's key (made and stored on first use). */
  login(account: string, pin: string, { deviceLabel }: { deviceLabel?: string | undefined } = {}): Promise<Session> {
    return this.keeper.login(account, pin, deviceLabel);
  }

  /** A new token for this session now (the client also does this by itself before the token ends). */
  async refresh(): Promise<Session> {
    return (await this.keeper.refresh(this.keeper.live())).session;
  }

  /** The session as the host has it now (a call like any other: it counts as activity). */
  async currentSession(): Promise<Session> {
    const { body, held } = await this.call('getSession');
    this.keeper.update(held, body);
    return body;
  }

  /** Ends this session on the host; the client forgets it whatever the answer (an expired one is as good as ended). */
  async logout(): Promise<void> {
    const held = this.keeper.current;
    this.keeper.acknowledge();
    if (!held) return;
    try {
      await this.keeper.sendAs(held, exchangeFor('logout'));
    } catch (error) {
      if (!(error instanceof SessionExpired)) throw error;
    } finally {
      this.keeper.end(held, 'logout');
    }
  }

  /** Ends every session of this customer, on every device; returns how many ended. */
  async logoutEverywhere(): Promise<number> {
    const held = this.keeper.live();
    try {
      const reply = await this.keeper.sendAs(held, exchangeFor('logoutAll'));
      return Number(reply.headers.get('X-Sessions-Ended') ?? 0);
    } finally {
      this.keeper.end(held, 'logout');
    }
  }

  /** This customer's live sessions: the devices that can act for them. */
  async sessions(): Promise<DeviceSession[]> {
    const { body, held } = await this.call('listSessions');
    held.ref = body.items.find((item) => item.current)?.ref;
    return body.items;
  }

  /** Ends one session (a lost device); ending this device's own is a logout. */
  async endSession(ref: string): Promise<void> {
    const { held } = await this.call('endSession', { path: { ref } });
    if (held.ref === ref) this.keeper.end(held, 'logout');
  }

  async accounts(): Promise<Account[]> {
    const { body } = await this.call('listAccounts');
    for (const account of body.items) this.currencies.set(account.accountId, account.currency);
    return body.items;
  }

  /** A page of an account's transactions, newest first; pass nextCursor back as cursor for the next. */
  async transactions(accountId: string, query: TransactionQuery = {}): Promise<TransactionPage> {
    return (await this.call('listTransactions', { path: { accountId }, query })).body;
  }

  /**
   * Books a transfer once. The device signs it (on a bound session), the
   * client makes its Idempotency-Key, and after a network failure or a 503 it
   * sends the same request again with the same key and signature: the service
   * answers a retry of a booked transfer with the original booking.
   */
  async transfer(request: TransferRequest): Promise<TransferResult> {
    const idempotencyKey = request.idempotencyKey ?? crypto.randomUUID();
    try {
      const { session } = await this.keeper.ensure();
      const body = {
        bankId: session.bankId, fromAccount: request.fromAccount, toAccount: request.toAccount, amount: request.amount,
        ...(request.reference !== undefined ? { reference: request.reference } : {}),
        ...(request.pin !== undefined ? { pin: request.pin } : {}),
      };
      const currency = session.bound ? await this.currencyOf(request.fromAccount) : null;
      let signature = currency === null ? null : await this.signTransfer(request, currency, idempotencyKey);
      for (let attempt = 1; ; attempt++) {
        try {
          const headers = { 'Idempotency-Key': idempotencyKey, ...(signature ? { 'Transfer-Signature': signature.jws } : {}) };
          const { reply } = await this.keeper.call(exchangeFor('createTransfer', { body, headers }));
          return { ...bodyOf<'createTransfer'>(reply), replayed: reply.headers.get('Idempotent-Replayed') === 'true', idempotencyKey };
        } catch (error) {
          const retryAfter = error instanceof ServiceUnavailable ? error.retryAfterSeconds : null;
          if (!(error instanceof NetworkError || error instanceof ServiceUnavailable) || attempt >= this.retry.attempts) throw error;
          await sleep(this.retry.delayMs(attempt, retryAfter));
          // Past its window the service would refuse the signature: the same fields signed anew still replay the booking.
          if (signature && currency !== null && this.seconds() - signature.iat > SIGNATURE_FRESH_SECONDS) {
            signature = await this.signTransfer(request, currency, idempotencyKey);
          }
        }
      }
    } catch (error) {
      if (error instanceof ClientError) error.idempotencyKey = idempotencyKey;
      throw error;
    }
  }

  async employees(query: EmployeeQuery = {}): Promise<EmployeePage> {
    return (await this.call('listEmployees', { query })).body;
  }

  async employee(empno: string): Promise<Employee> {
    return (await this.call('getEmployee', { path: { empno } })).body;
  }

  /** Staff only (Forbidden otherwise). */
  async createEmployee(employee: NewEmployee): Promise<Employee> {
    return (await this.call('createEmployee', { body: employee })).body;
  }

  /** Staff only: changes the given fields, leaves the rest. */
  async updateEmployee(empno: string, changes: EmployeeChanges): Promise<Employee> {
    return (await this.call('updateEmployee', { path: { empno }, body: changes })).body;
  }

  /** Staff only. */
  async deleteEmployee(empno: string): Promise<void> {
    await this.call('deleteEmployee', { path: { empno } });
  }

  /** Logs out and forgets the device key: the next login is a new device, with a new key. */
  async forgetDevice(): Promise<void> {
    try {
      await this.logout();
    } finally {
      this.key = null;
      await this.keyStore.clear();
    }
  }

  /** An operation on the session, answered with its typed body and the session it went out on. */
  private async call<Id extends RoutedOperation>(id: Id, input: CallInput = {}): Promise<{ body: Success<Id>; held: HeldSession }> {
    const { reply, held } = await this.keeper.call(exchangeFor(id, input));
    return { body: bodyOf<Id>(reply), held };
  }

  private deviceKey(): Promise<DeviceKey> {
    if (!this.key) {
      const loading = (async () => {
        const pair = await this.keyStore.load() ?? await DeviceKey.generatePair(this.options.algorithm ?? 'ES256');
        await this.keyStore.save(pair);
        return DeviceKey.fromPair(pair);
      })();
      this.key = loading;
      loading.catch(() => {
        if (this.key === loading) this.key = null; // a store that failed once is asked again next time
      });
    }
    return this.key;
  }

  private async signTransfer(request: TransferRequest, currency: string, idempotencyKey: string): Promise<{ jws: string; iat: number }> {
    const iat = this.seconds();
    const key = await this.deviceKey();
    const jws = await key.sign({ typ: 'transfer+jwt' }, {
      fromAccount: request.fromAccount, toAccount: request.toAccount, amount: request.amount, currency, idempotencyKey, iat,
    });
    return { jws, iat };
  }

  /** The from-account's currency: from the last account list, asked for when unknown. */
  private async currencyOf(accountId: string): Promise<string> {
    if (!this.currencies.has(accountId)) await this.accounts();
    const currency = this.currencies.get(accountId);
    if (currency !== undefined) return currency;
    throw new NotFound(404, {
      type: 'urn:problem:not_found', title: 'Not found', status: 404, code: 'not_found',
      detail: 'fromAccount is not one of this customer\u2019s accounts.', requestId: '',
    });
  }

  private seconds(): number {
    return Math.floor(this.now().getTime() / 1000);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
