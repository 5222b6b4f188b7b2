// The one mapping from anything thrown to the problem details a client sees.
import { SharedStateUnavailable } from '../auth/shared-state.js';
import { HostConflictError, HostUnavailableError } from '../db/host.js';
import { AppError, Conflict, HostUnavailable, InternalError, TemporarilyUnavailable, type FieldError } from '../routes/errors.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: string;
  requestId: string;
  errors?: FieldError[];
}

/** Maps anything thrown to the AppError a client sees; unknown errors become 500. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof HostUnavailableError) return new HostUnavailable();
  if (error instanceof HostConflictError) return new Conflict('The resource already exists.');
  if (error instanceof SharedStateUnavailable) return new TemporarilyUnavailable();
  return new InternalError();
}

export function problemBody(error: AppError, requestId: string): Problem {
  return {
    type: `urn:problem:${error.code}`,
    title: error.title,
    status: error.status,
    ...(error.detail ? { detail: error.detail } : {}),
    code: error.code,
    requestId,
    ...(error.errors ? { errors: error.errors } : {}),
  };
}
