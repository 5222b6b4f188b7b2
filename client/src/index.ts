// The client kit's public surface: the client class, its key stores, its
// errors and the contract types generated from the served /openapi.json.
export { BankClient } from './bank-client.js';
export type { BankClientOptions, Credentials, RetryPolicy, SessionChange, TransferRequest, TransferResult } from './bank-client.js';
export { IndexedDbKeyStore, MemoryKeyStore } from './key-store.js';
export type { IndexedDbKeyStoreOptions, KeyStore } from './key-store.js';
export type { DeviceAlgorithm, PublicJwk } from './device-key.js';
export {
  AccountLocked, ApiError, ClientError, Forbidden, InsufficientFunds, InvalidCredentials, KeyStoreUnavailable, LimitExceeded,
  NetworkError, NotFound, NotLoggedIn, ProofRejected, ServiceUnavailable, SessionExpired, StepUpFailed, StepUpRequired,
  TooManyRequests, TransferRefused, ValidationFailed,
} from './errors.js';
export type { ReceivedProblem } from './errors.js';
export type {
  Account, DeviceSession, Employee, EmployeeChanges, EmployeePage, EmployeeQuery, NewEmployee, Problem, Session,
  Transaction, TransactionPage, TransactionQuery, Transfer,
} from './contract.js';
export type { components, operations, paths } from './api-types.js';
