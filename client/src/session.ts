// The session the client holds: its token and deadlines, a refresh before the
// token ends, finding the session over (on the client's clock, or by the
// service's word), and logging in again through the app's reauthenticate.
import { bodyOf, exchangeFor, type LoginResult, type Session } from './contract.js';
import { ApiError, NotLoggedIn, SessionExpired, sessionOver } from './errors.js';
import type { Exchange, Reply, Transport } from './transport.js';

export interface Credentials {
  account: string;
  pin: string;
  deviceLabel?: string;
}

export interface SessionChange {
  reason: 'login' | 'refresh' | 'logout' | 'expired';
  /** The session now, or null once it has ended. */
  session: Session | null;
}

export interface SessionOptions {
  now: () => Date;
  refreshMarginSeconds: number;
  reauthenticate: ((expired: SessionExpired) => Promise<Credentials | null>) | undefined;
  onChange: (change: SessionChange) => void;
}

/** What the client holds while logged in; never the PIN. */
export interface HeldSession {
  token: string;
  tokenType: 'DPoP' | 'Bearer';
  expiresAt: number;
  session: Session;
  idleSeconds: number;
  /** The latest the host can still hold the session: its idle deadline, moved on by every answer since. */
  idleDeadline: number;
  deviceLabel: string | undefined;
  /** This session's reference in the device list, once the list has shown it. */
  ref?: string | undefined;
}

/** An answer, and the session it was sent on. */
export interface Sent {
  reply: Reply;
  held: HeldSession;
}

export class SessionKeeper {
  private held: HeldSession | null = null;
  /** The last session timed out (rather than logged out): calls say SessionExpired, not NotLoggedIn, until the next login. */
  private expired = false;
  /** Counts logins, so a call that failed on an older session goes out again on a newer one instead of asking again. */
  private generation = 0;
  private refreshing: Promise<HeldSession> | null = null;
  private relogin: Promise<void> | null = null;
  /** The device label of the last login, used again when the client logs in again by itself. */
  private lastLabel: string | undefined;

  constructor(private readonly transport: Transport, private readonly options: SessionOptions) {}

  get current(): HeldSession | null {
    return this.held;
  }

  async login(account: string, pin: string, deviceLabel: string | undefined): Promise<Session> {
    const reply = await this.transport.send(exchangeFor('login', {
      body: { account, pin, ...(deviceLabel !== undefined ? { device: deviceLabel } : {}) },
    }));
    return this.adopt(bodyOf<'login'>(reply), 'login', deviceLabel, undefined).session;
  }

  /**
   * Sends `exchange` with the session's token: refreshed first when it is
   * about to end, and once more after logging in again when the session was
   * over and the app's reauthenticate gave credentials.
   */
  async call(exchange: Exchange): Promise<Sent> {
    await this.loginUnderWay();
    const generation = this.generation;
    try {
      return await this.send(exchange);
    } catch (error) {
      if (!(error instanceof SessionExpired)) throw error;
      // Another call already logged in again while this one was on its way: just send it again.
      if (!(this.held && this.generation !== generation)) await this.logInAgain(error);
      return this.send(exchange);
    }
  }

  /** Sends with the session as it is, nothing more: no refresh, no second login (logging out). */
  async sendAs(held: HeldSession, exchange: Exchange): Promise<Reply> {
    return this.transport.send({ ...exchange, token: { value: held.token, type: held.tokenType } });
  }

  /** The session, logging in again first (reauthenticate) when it is over. */
  async ensure(): Promise<HeldSession> {
    await this.loginUnderWay();
    try {
      return this.live();
    } catch (error) {
      if (!(error instanceof SessionExpired)) throw error;
      await this.logInAgain(error);
      return this.live();
    }
  }

  /** The session, when the client still has one whose deadlines have not passed on its clock. */
  live(): HeldSession {
    const held = this.held;
    if (!held) throw this.expired ? sessionOver('The session has ended; log in again.') : new NotLoggedIn();
    const now = this.options.now().getTime();
    if (now >= Date.parse(held.session.absoluteExpiresAt)) {
      this.end(held, 'expired');
      throw sessionOver('The session reached its absolute timeout; log in again.');
    }
    if (now >= held.idleDeadline) {
      this.end(held, 'expired');
      throw sessionOver('The session ended after too long without activity; log in again.');
    }
    return held;
  }

  refresh(held: HeldSession): Promise<HeldSession> {
    this.refreshing ??= (async () => {
      try {
        const reply = await this.sendAs(held, exchangeFor('refresh'));
        return this.adopt(bodyOf<'refresh'>(reply), 'refresh', held.deviceLabel, held.ref);
      } catch (error) {
        if (error instanceof SessionExpired) this.end(held, 'expired');
        throw error;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** The host's own view of the session (GET /api/auth/session) replaces the client's estimate. */
  update(held: HeldSession, session: Session): void {
    held.session = session;
    held.idleDeadline = Date.parse(session.idleExpiresAt);
  }

  /** Drops `held` unless a newer session has already replaced it. */
  end(held: HeldSession, reason: 'logout' | 'expired'): void {
    if (this.held !== held) return;
    this.held = null;
    this.expired = reason === 'expired';
    this.options.onChange({ reason, session: null });
  }

  /** The app has seen the session end (it logs out): from now on calls say NotLoggedIn. */
  acknowledge(): void {
    this.expired = false;
  }

  private async send(exchange: Exchange): Promise<Sent> {
    let held = this.live();
    if (this.refreshDue(held)) held = await this.refresh(held);
    try {
      const reply = await this.sendAs(held, exchange);
      this.touched(held);
      return { reply, held };
    } catch (error) {
      if (error instanceof SessionExpired) this.end(held, 'expired');
      // A refusal from a handler (409, 422...) came after the host had resolved, and so touched, the session.
      else if (error instanceof ApiError && error.status !== 401 && error.status < 500) this.touched(held);
      throw error;
    }
  }

  /** Refresh while the session outlives the token, and the token is within the margin of its end. */
  private refreshDue(held: HeldSession): boolean {
    const left = held.expiresAt - this.options.now().getTime();
    return left <= this.options.refreshMarginSeconds * 1000 && held.expiresAt < Date.parse(held.session.absoluteExpiresAt);
  }

  /** Calls made while the client logs in again wait for it, and go out on the new session. */
  private async loginUnderWay(): Promise<void> {
    await this.relogin?.catch(() => undefined); // its failure is reported to the call that started it
  }

  /** One prompt for any number of calls that found the session over at once. */
  private logInAgain(expired: SessionExpired): Promise<void> {
    const reauthenticate = this.options.reauthenticate;
    if (!reauthenticate) return Promise.reject(expired);
    const label = this.lastLabel;
    this.relogin ??= (async () => {
      try {
        const credentials = await reauthenticate(expired);
        if (!credentials) throw expired;
        await this.login(credentials.account, credentials.pin, credentials.deviceLabel ?? label);
      } finally {
        this.relogin = null;
      }
    })();
    return this.relogin;
  }

  private adopt(result: LoginResult, reason: 'login' | 'refresh', deviceLabel: string | undefined, ref: string | undefined): HeldSession {
    const { session } = result;
    const idleDeadline = Date.parse(session.idleExpiresAt);
    const held: HeldSession = {
      token: result.token,
      tokenType: result.tokenType === 'DPoP' ? 'DPoP' : 'Bearer',
      expiresAt: Date.parse(result.expiresAt),
      session,
      // The host's idle timeout, as a login shows it: the deadline less the moment it was set.
      idleSeconds: reason === 'refresh' && this.held ? this.held.idleSeconds : (idleDeadline - Date.parse(session.lastSeenAt)) / 1000,
      idleDeadline,
      deviceLabel,
      ref,
    };
    if (reason === 'login') this.generation++;
    this.held = held;
    this.expired = false;
    this.lastLabel = deviceLabel;
    this.options.onChange({ reason, session });
    return held;
  }

  /** Every answer from the host moves its idle deadline on: this is the latest it can now be. */
  private touched(held: HeldSession): void {
    held.idleDeadline = Math.max(held.idleDeadline, this.options.now().getTime() + held.idleSeconds * 1000);
  }
}
