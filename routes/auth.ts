// /api/auth: login, refresh, the session, logout (one device or all) and the
// session's scratch pad, all kept on the host.
import { object, string } from 'yup';
import { AccountLocked, InvalidCredentials, InvalidToken, PayloadTooLarge, RateLimited } from './errors.js';
import { sessionView } from '../auth/auth.js';
import { getScratchpad, logout, logoutAll, putScratchpad } from '../db/sessions.js';
import { route, type RouteDeps, type RouteSpec } from './define.js';
import { timestamp } from './schemas.js';

export const SCRATCHPAD_LIMIT_BYTES = 4096;

const loginBody = object({
  account: string().required().matches(/^\d{6,20}$/, 'must be 6 to 20 digits'),
  pin: string().required().matches(/^\d{4,8}$/, 'must be 4 to 8 digits'),
  device: string().max(64).meta({ description: 'Free-text device label, kept with the session and in the audit trail.' }),
}).noUnknown().strict();

const sessionSchema = object({
  customerId: string().required(),
  bankId: string().required(),
  role: string().oneOf(['customer', 'staff']).required(),
  createdAt: timestamp().required(),
  lastSeenAt: timestamp().required(),
  idleExpiresAt: timestamp().required(),
  absoluteExpiresAt: timestamp().required(),
});

const tokenSchema = object({
  token: string().required(),
  tokenType: string().oneOf(['Bearer']).required(),
  expiresAt: timestamp().required(),
  session: sessionSchema.required(),
});

const scratchpadSchema = object().meta({ description: `Any JSON object, at most ${SCRATCHPAD_LIMIT_BYTES} bytes serialized.`, example: { cart: ['A1'] } });

const TAG = 'Session';

export function authRoutes({ host, auth }: RouteDeps): RouteSpec[] {
  return [
    route({
      method: 'post', path: '/api/auth/login', operationId: 'login', tag: TAG, access: 'public',
      summary: 'Log in with account number and PIN',
      description: 'Creates a session on the host and returns a token naming it. Wrong PIN and unknown account are '
        + 'indistinguishable. Repeated failures lock the account (423); too many attempts from one address give 429.',
      body: loginBody,
      responses: { 201: { description: 'Logged in', schema: tokenSchema } },
      problems: [401, 423, 429],
      async handle({ body, context, now }) {
        const result = await auth.login({ account: body.account, pin: body.pin, device: body.device ?? null }, context, now);
        switch (result.status) {
          case 'ok': return { status: 201, body: result.issued, headers: { 'Cache-Control': 'no-store' } };
          case 'locked': throw new AccountLocked(result.retryAfterSeconds);
          case 'rate_limited': throw new RateLimited(result.retryAfterSeconds);
          default: throw new InvalidCredentials();
        }
      },
    }),
    route({
      method: 'post', path: '/api/auth/refresh', operationId: 'refresh', tag: TAG, access: 'session',
      summary: 'A new token for the same session, signed with the current key',
      responses: { 200: { description: 'Refreshed', schema: tokenSchema } },
      problems: [],
      async handle({ session, now }) {
        return { status: 200, body: await auth.issue(session.sessionId, sessionView(session), now), headers: { 'Cache-Control': 'no-store' } };
      },
    }),
    route({
      method: 'get', path: '/api/auth/session', operationId: 'getSession', tag: TAG, access: 'session',
      summary: 'The current session',
      responses: { 200: { description: 'The session', schema: sessionSchema } },
      problems: [],
      async handle({ session }) {
        return { status: 200, body: sessionView(session) };
      },
    }),
    route({
      method: 'delete', path: '/api/auth/session', operationId: 'logout', tag: TAG, access: 'session',
      summary: 'Log out: the host session is deleted, the token dies everywhere at once',
      responses: { 204: { description: 'Logged out' } },
      problems: [],
      async handle({ session, context, now }) {
        if (!await logout(host, session.sessionId, context, now)) throw new InvalidToken('session_expired');
        return { status: 204 };
      },
    }),
    route({
      method: 'delete', path: '/api/auth/sessions', operationId: 'logoutAll', tag: TAG, access: 'session',
      summary: 'Log out every session of this customer (all devices)',
      responses: { 204: { description: 'All sessions ended', headers: { 'X-Sessions-Ended': 'How many sessions were ended' } } },
      problems: [],
      async handle({ session, context, now }) {
        const ended = await logoutAll(host, session.sessionId, context, now);
        if (ended === null) throw new InvalidToken('session_expired');
        return { status: 204, headers: { 'X-Sessions-Ended': String(ended) } };
      },
    }),
    route({
      method: 'get', path: '/api/auth/session/scratchpad', operationId: 'getScratchpad', tag: TAG, access: 'session',
      summary: 'The session\u2019s scratch pad, stored on the host ({} when empty)',
      responses: { 200: { description: 'The scratch pad', schema: scratchpadSchema } },
      problems: [],
      async handle({ session }) {
        const stored = await getScratchpad(host, session.sessionId);
        if (stored === null) throw new InvalidToken('session_expired');
        return { status: 200, body: JSON.parse(stored) as unknown, headers: { 'Cache-Control': 'no-store' } };
      },
    }),
    route({
      method: 'put', path: '/api/auth/session/scratchpad', operationId: 'putScratchpad', tag: TAG, access: 'session',
      summary: `Replace the scratch pad (any JSON object up to ${SCRATCHPAD_LIMIT_BYTES} bytes serialized)`,
      body: scratchpadSchema,
      responses: { 204: { description: 'Stored' } },
      problems: [],
      async handle({ body, session }) {
        const serialized = JSON.stringify(body);
        if (Buffer.byteLength(serialized) > SCRATCHPAD_LIMIT_BYTES) {
          throw new PayloadTooLarge(`The scratch pad may hold at most ${SCRATCHPAD_LIMIT_BYTES} bytes serialized.`);
        }
        await putScratchpad(host, session.sessionId, serialized);
        return { status: 204 };
      },
    }),
  ];
}

