// Where the device key pair lives between runs: in memory (Node, tests), or
// in IndexedDB in a browser, which keeps the CryptoKey objects themselves
// (structured clone): a non-extractable private key stays non-extractable.
import { KeyStoreUnavailable } from './errors.js';

export interface KeyStore {
  /** The device's key pair, or null when this device has none yet. */
  load(): Promise<CryptoKeyPair | null>;
  save(pair: CryptoKeyPair): Promise<void>;
  /** Forgets the key: the next login makes a new one (a new device, as far as the service can tell). */
  clear(): Promise<void>;
}

/** For one process's life: a Node service, a test, or a browser tab that should not remember the device. */
export class MemoryKeyStore implements KeyStore {
  private pair: CryptoKeyPair | null = null;

  async load(): Promise<CryptoKeyPair | null> {
    return this.pair;
  }

  async save(pair: CryptoKeyPair): Promise<void> {
    this.pair = pair;
  }

  async clear(): Promise<void> {
    this.pair = null;
  }
}

export interface IndexedDbKeyStoreOptions {
  /** Database name; one device key per name. */
  database?: string;
  /** The IndexedDB factory; the page's own by default. */
  indexedDB?: IDBFactory;
}

const STORE = 'device-keys';
const ENTRY = 'device';

/**
 * A browser's store: the key survives reloads and restarts, and no script can
 * read its private half. Where there is no IndexedDB (Node), constructing it
 * throws KeyStoreUnavailable saying which store to use instead.
 */
export class IndexedDbKeyStore implements KeyStore {
  private readonly database: string;
  private readonly factory: IDBFactory;

  constructor(options: IndexedDbKeyStoreOptions = {}) {
    this.database = options.database ?? 'host-session-client';
    // Said here, where the app chose the store, rather than as "indexedDB is not defined" at its first login.
    const factory = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (!factory) {
      throw new KeyStoreUnavailable("IndexedDbKeyStore needs a browser's IndexedDB; in Node use MemoryKeyStore (or your own KeyStore that persists the key).");
    }
    this.factory = factory;
  }

  async load(): Promise<CryptoKeyPair | null> {
    const stored = await this.run('readonly', (store) => store.get(ENTRY));
    return isKeyPair(stored) ? stored : null;
  }

  async save(pair: CryptoKeyPair): Promise<void> {
    await this.run('readwrite', (store) => store.put({ privateKey: pair.privateKey, publicKey: pair.publicKey }, ENTRY));
  }

  async clear(): Promise<void> {
    await this.run('readwrite', (store) => store.delete(ENTRY));
  }

  /** One request in its own transaction; resolves once the transaction has committed. */
  private async run<T>(mode: IDBTransactionMode, request: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    const db = await this.open();
    try {
      const transaction = db.transaction(STORE, mode);
      const committed = new Promise<void>((resolve, reject) => {
        transaction.oncomplete = () => resolve();
        transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted'));
      });
      const [result] = await Promise.all([settled(request(transaction.objectStore(STORE))), committed]);
      return result;
    } finally {
      db.close();
    }
  }

  private async open(): Promise<IDBDatabase> {
    const opening = this.factory.open(this.database, 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore(STORE);
    return settled(opening);
  }
}

function settled<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
  });
}

function isKeyPair(value: unknown): value is CryptoKeyPair {
  return typeof value === 'object' && value !== null
    && 'privateKey' in value && value.privateKey instanceof CryptoKey
    && 'publicKey' in value && value.publicKey instanceof CryptoKey;
}
