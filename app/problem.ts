// The one mapping from anything thrown to the problem details a client sees
// (RFC 9457): a ProblemError as it was thrown, a host or shared-state failure
// as its 503 or 409, anything else as 500 with nothing of its cause.
import { SharedStateUnavailable } from '../auth/shared-state.js';
import { problem, ProblemError, type FieldError } from '../contract/problems.js';
import { HostConflictError, HostUnavailableError } from '../db/host.js';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: string;
  requestId: string;
  errors?: FieldError[];
}

/** The problem a client sees for anything thrown; unknown errors become 500 internal_error. */
export function toProblem(error: unknown): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error instanceof HostUnavailableError) return problem('host_unavailable');
  if (error instanceof HostConflictError) return problem('conflict');
  if (error instanceof SharedStateUnavailable) return problem('temporarily_unavailable');
  return problem('internal_error');
}

export function problemBody(error: ProblemError, requestId: string): ProblemBody {
  return {
    type: `urn:problem:${error.code}`,
    title: error.title,
    status: error.status,
    detail: error.detail,
    code: error.code,
    requestId,
    ...(error.errors ? { errors: error.errors } : {}),
  };
}
