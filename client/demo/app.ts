// The demo app at /app: log in, balances, a transfer, the device list, logout
// and idle expiry, all through BankClient, with the device key made in this
// browser (non-extractable) and kept in IndexedDB. No framework, no innerHTML.
import {
  AccountLocked, ApiError, BankClient, IndexedDbKeyStore, InvalidCredentials, NetworkError, SessionExpired, StepUpRequired,
  type Account, type DeviceSession, type SessionChange,
} from '../src/index.js';

function byId<T extends HTMLElement>(id: string, type: { new (): T; prototype: T }): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`The page has no #${id}`);
  return element;
}

const view = {
  deviceKey: byId('device-key', HTMLElement),
  notice: byId('notice', HTMLParagraphElement),
  login: byId('login-view', HTMLElement),
  loginForm: byId('login-form', HTMLFormElement),
  home: byId('home-view', HTMLElement),
  idle: byId('idle', HTMLParagraphElement),
  accounts: byId('accounts', HTMLUListElement),
  transferForm: byId('transfer-form', HTMLFormElement),
  stepUp: byId('step-up', HTMLLabelElement),
  devices: byId('devices', HTMLUListElement),
  logout: byId('logout', HTMLButtonElement),
  logoutAll: byId('logout-all', HTMLButtonElement),
};

const client = new BankClient({
  baseUrl: location.origin,
  keyStore: new IndexedDbKeyStore(),
  onSessionChange: sessionChanged,
});

function sessionChanged({ reason, session }: SessionChange): void {
  view.login.hidden = session !== null;
  view.home.hidden = session === null;
  if (reason === 'expired') notify('Your session has ended (too long without activity). Log in again.');
  if (reason === 'logout') notify('Logged out.', 'info');
  if (reason === 'login') notify(null);
  tick();
}

/** The page's one notice: each says how the latest action went, and replaces the one before. */
function notify(message: string | null, kind: 'error' | 'info' = 'error'): void {
  view.notice.hidden = message === null;
  view.notice.textContent = message;
  view.notice.className = kind;
}

/** What the customer should read for a failure; SessionExpired is shown by sessionChanged already. */
function explain(error: unknown): string | null {
  if (error instanceof SessionExpired) return null;
  if (error instanceof InvalidCredentials) return 'The account number or PIN is not correct.';
  if (error instanceof AccountLocked) return `Too many wrong PINs. Try again in ${Math.ceil((error.retryAfterSeconds ?? 60) / 60)} minutes.`;
  if (error instanceof NetworkError) return 'The bank cannot be reached. Check the connection and try again.';
  if (error instanceof ApiError) return error.errors.length ? error.errors.map((e) => `${e.path} ${e.message}`).join('; ') : error.message;
  return error instanceof Error ? error.message : String(error);
}

/** Runs work; its failure becomes the notice instead of an unhandled rejection. */
function run(work: () => Promise<void>): void {
  work().catch((error: unknown) => {
    const message = explain(error);
    if (message !== null) notify(message);
  });
}

/** What the customer does: its start clears the last action's notice, so the notice always speaks of this one. */
function action(work: () => Promise<void>): () => void {
  return () => {
    notify(null);
    run(work);
  };
}

function field(form: HTMLFormElement, name: string): string {
  const value = new FormData(form).get(name);
  return typeof value === 'string' ? value.trim() : '';
}

function item(title: string, detail: string, extra?: HTMLElement): HTMLLIElement {
  const li = document.createElement('li');
  const text = document.createElement('span');
  text.append(title);
  const small = document.createElement('small');
  small.textContent = detail;
  text.append(small);
  li.append(text);
  if (extra) li.append(extra);
  return li;
}

function showAccounts(accounts: Account[]): void {
  const select = view.transferForm.elements.namedItem('fromAccount');
  view.accounts.replaceChildren(...accounts.map((account) => {
    const balance = document.createElement('span');
    balance.className = 'amount';
    balance.textContent = `${account.balance} ${account.currency}`;
    const li = item(`${account.kind} ${account.accountId}`, account.bankId, balance);
    li.dataset.account = account.accountId;
    return li;
  }));
  if (select instanceof HTMLSelectElement) {
    const chosen = select.value; // a refresh keeps the customer's choice of source account
    select.replaceChildren(...accounts.map((account) =>
      new Option(`${account.kind} ${account.accountId} \u00b7 ${account.balance} ${account.currency}`, account.accountId)));
    if (accounts.some((account) => account.accountId === chosen)) select.value = chosen;
  }
}

function showDevices(sessions: DeviceSession[]): void {
  view.devices.replaceChildren(...sessions.map((device) => {
    const label = device.device ?? 'Unnamed device';
    const detail = `${device.bound ? 'key-bound' : 'bearer'} \u00b7 last seen ${new Date(device.lastSeenAt).toLocaleTimeString()}`;
    let control: HTMLElement;
    if (device.current) {
      control = document.createElement('strong');
      control.textContent = 'this device';
    } else {
      const end = document.createElement('button');
      end.type = 'button';
      end.className = 'secondary';
      end.textContent = 'End';
      end.addEventListener('click', action(async () => {
        await client.endSession(device.ref);
        notify(`Ended the session on ${label}.`, 'info');
        await refresh();
      }));
      control = end;
    }
    const li = item(label, detail, control);
    li.dataset.ref = device.ref;
    if (device.current) li.dataset.current = 'true';
    return li;
  }));
}

async function refresh(): Promise<void> {
  showAccounts(await client.accounts());
  showDevices(await client.sessions());
}

/** The idle countdown; when it runs out the client finds the session over, and sessionChanged shows it. */
function tick(): void {
  const deadline = client.idleExpiresAt;
  if (!deadline) return;
  const left = Math.max(0, Math.round((deadline.getTime() - Date.now()) / 1000));
  view.idle.textContent = `Ends after inactivity at ${deadline.toLocaleTimeString()} (in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}).`;
  if (left === 0) run(async () => { await client.currentSession(); });
}

view.loginForm.addEventListener('submit', (event) => {
  event.preventDefault();
  action(async () => {
    const form = view.loginForm;
    await client.login(field(form, 'account'), field(form, 'pin'), { deviceLabel: field(form, 'device') || undefined });
    form.reset();
    await refresh();
  })();
});

view.transferForm.addEventListener('submit', (event) => {
  event.preventDefault();
  action(async () => {
    const form = view.transferForm;
    const pin = field(form, 'pin');
    const pinInput = form.elements.namedItem('pin');
    const select = form.elements.namedItem('fromAccount');
    // The PIN again authorizes one attempt: it never stays in the form after it was sent.
    if (pin && pinInput instanceof HTMLInputElement) pinInput.value = '';
    try {
      const booked = await client.transfer({
        fromAccount: field(form, 'fromAccount'), toAccount: field(form, 'toAccount'), amount: field(form, 'amount'),
        ...(field(form, 'reference') ? { reference: field(form, 'reference') } : {}),
        ...(pin ? { pin } : {}),
      });
      view.stepUp.hidden = true;
      const from = field(form, 'fromAccount');
      form.reset();
      if (select instanceof HTMLSelectElement) select.value = from; // the next transfer likely leaves the same account
      notify(`Sent ${booked.amount} ${booked.currency} to ${booked.toAccount}.`, 'info');
      await refresh();
    } catch (error) {
      if (!(error instanceof StepUpRequired)) throw error;
      view.stepUp.hidden = false;
      notify('This amount needs your PIN again.', 'info');
      if (pinInput instanceof HTMLInputElement) pinInput.focus();
    }
  })();
});

view.logout.addEventListener('click', action(() => client.logout()));
view.logoutAll.addEventListener('click', action(async () => {
  const ended = await client.logoutEverywhere();
  notify(`Logged out on ${ended} device${ended === 1 ? '' : 's'}.`, 'info');
}));

run(async () => {
  const thumbprint = await client.deviceThumbprint();
  view.deviceKey.textContent = `${thumbprint.slice(0, 8)}\u2026`;
  view.deviceKey.title = thumbprint;
  view.deviceKey.dataset.thumbprint = thumbprint;
});
setInterval(tick, 1000);
