// /api/auth: login (bound to a device key when the client sends a DPoP proof),
// refresh, the session, the customer's devices, logout (this device, one
// other, or all) and the session's scratch pad, all kept on the host.
import { array, boolean, object, string } from 'yup';
import { problem } from '../contract/problems.js';
import { sessionGone, sessionView } from '../auth/authenticator.js';
import { customerSessions, endSession, getScratchpad, logout, logoutAll, putScratchpad } from '../db/host-sessions.js';
import { route, type RouteDeps, type RouteSpec } from './define.js';
import { hostText, timestamp } from './schemas.js';

export const SCRATCHPAD_LIMIT_BYTES = 4096;

const loginBody = object({
  account: string().required().matches(/^\d{6,20}$/, 'must be 6 to 20 digits'),
  pin: string().required().matches(/^\d{4,8}$/, 'must be 4 to 8 digits'),
  device: hostText(64).meta({ description: 'Free-text device label, kept with the session, shown in the device list and the audit trail.' }),
}).noUnknown().strict().meta({ example: { account: '100000001', pin: '12345' } });

const sessionSchema = object({
  customerId: string().required(),
  bankId: string().required(),
  role: string().oneOf(['customer', 'staff']).required(),
  bound: boolean().required().meta({ description: 'True when the session is bound to a device key (DPoP, RFC 9449).' }),
  createdAt: timestamp().required(),
  lastSeenAt: timestamp().required(),
  idleExpiresAt: timestamp().required(),
  absoluteExpiresAt: timestamp().required(),
}).noUnknown();

const tokenSchema = object({
  token: string().required(),
  tokenType: string().oneOf(['Bearer', 'DPoP']).required()
    .meta({ description: 'How to present the token: "Authorization: DPoP <token>" with a proof for a bound session, else Bearer.' }),
  expiresAt: timestamp().required(),
  session: sessionSchema.required(),
}).noUnknown();

const deviceSessionSchema = object({
  ref: string().required().meta({ description: 'Opaque reference to the session (never its id): DELETE /api/auth/sessions/{ref} ends it.' }),
  device: string().nullable().defined(),
  bound: boolean().required(),
  current: boolean().required().meta({ description: 'True for the session making this request.' }),
  createdAt: timestamp().required(),
  lastSeenAt: timestamp().required(),
  idleExpiresAt: timestamp().required(),
  absoluteExpiresAt: timestamp().required(),
}).noUnknown();

const sessionRef = object({ ref: string().required().matches(/^[0-9a-f]{16}$/, 'must be a session reference from GET /api/auth/sessions') });

const dpopHeader = object({
  DPoP: string().max(8192).meta({ description: 'A DPoP proof (RFC 9449) for POST of this URL: binds the new session to the key that signed it.' }),
});

const scratchpadSchema = object().meta({ description: `Any JSON object, at most ${SCRATCHPAD_LIMIT_BYTES} bytes serialized.`, example: { cart: ['A1'] } });

const TAG = 'Session';

export function authRoutes({ host, auth }: RouteDeps): RouteSpec[] {
  return [
    route({
      method: 'post', path: '/api/auth/login', operationId: 'login', tag: TAG, access: 'public',
      summary: 'Log in with account number and PIN',
      description: 'Creates a session on the host and returns a token naming it. With a DPoP proof (header DPoP, with the '
        + 'server nonce of DPoP-Nonce) the session is bound to the proving key: tokenType DPoP. SESSION_BINDING=required '
        + 'refuses a login without one (401 dpop_required). Wrong PIN and unknown account are indistinguishable, and both '
        + 'lock after repeated failures (423); too many attempts from one address give 429.',
      headers: dpopHeader,
      body: loginBody,
      responses: { 201: { description: 'Logged in', schema: tokenSchema, headers: { 'DPoP-Nonce': 'The nonce the next DPoP proof must carry' } } },
      problems: [401, 423, 429],
      async handle({ body, headers, context, now, url }) {
        const issued = await auth.login(
          { account: body.account, pin: body.pin, device: body.device ?? null },
          { header: headers.DPoP ?? '', target: { method: 'POST', url, now } },
          context, now,
        );
        return { status: 201, body: issued, headers: { 'DPoP-Nonce': auth.nonce(now) } };
      },
    }),
    route({
      method: 'post', path: '/api/auth/refresh', operationId: 'refresh', tag: TAG, access: 'session',
      summary: 'A new token for the same session, signed with the current key (a bound session stays bound)',
      responses: { 200: { description: 'Refreshed', schema: tokenSchema } },
      problems: [],
      async handle({ session, now }) {
        return { status: 200, body: await auth.refresh(session, now) };
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
        if (!await logout(host, session.sessionId, context, now)) throw sessionGone(session);
        return { status: 204 };
      },
    }),
    route({
      method: 'get', path: '/api/auth/sessions', operationId: 'listSessions', tag: TAG, access: 'session',
      summary: 'This customer\u2019s live sessions: the devices that can act for them',
      responses: { 200: { description: 'Live sessions, oldest first', schema: object({ items: array(deviceSessionSchema).required() }).noUnknown() } },
      problems: [],
      async handle({ session, context, now }) {
        const sessions = await customerSessions(host, session.customerId, now, context);
        return { status: 200, body: { items: sessions.map((s) => ({ ...s, current: s.ref === session.sessionHash })) } };
      },
    }),
    route({
      method: 'delete', path: '/api/auth/sessions/{ref}', operationId: 'endSession', tag: TAG, access: 'session',
      summary: 'End one of this customer\u2019s sessions (a lost or unknown device) at once',
      params: sessionRef,
      responses: { 204: { description: 'Ended; its token is refused everywhere' } },
      problems: [404],
      async handle({ params, session, context, now }) {
        switch (await endSession(host, session.sessionId, params.ref, context, now)) {
          case 'ended': return { status: 204 };
          case 'not_found': throw problem('not_found', { detail: 'No such session of this customer.' });
          case 'gone': throw sessionGone(session);
        }
      },
    }),
    route({
      method: 'delete', path: '/api/auth/sessions', operationId: 'logoutAll', tag: TAG, access: 'session',
      summary: 'Log out every session of this customer (all devices)',
      responses: { 204: { description: 'All sessions ended', headers: { 'X-Sessions-Ended': 'How many sessions were ended' } } },
      problems: [],
      async handle({ session, context, now }) {
        const ended = await logoutAll(host, session.sessionId, context, now);
        if (ended === null) throw sessionGone(session);
        return { status: 204, headers: { 'X-Sessions-Ended': String(ended) } };
      },
    }),
    route({
      method: 'get', path: '/api/auth/session/scratchpad', operationId: 'getScratchpad', tag: TAG, access: 'session',
      summary: 'The session\u2019s scratch pad, stored on the host ({} when empty)',
      responses: { 200: { description: 'The scratch pad', schema: scratchpadSchema } },
      problems: [],
      async handle({ session, context }) {
        const stored = await getScratchpad(host, session.sessionId, context);
        if (stored === null) throw sessionGone(session);
        return { status: 200, body: JSON.parse(stored) as unknown };
      },
    }),
    route({
      method: 'put', path: '/api/auth/session/scratchpad', operationId: 'putScratchpad', tag: TAG, access: 'session',
      summary: `Replace the scratch pad (any JSON object up to ${SCRATCHPAD_LIMIT_BYTES} bytes serialized)`,
      body: scratchpadSchema,
      responses: { 204: { description: 'Stored' } },
      problems: [],
      async handle({ body, session, context }) {
        const serialized = JSON.stringify(body);
        if (Buffer.byteLength(serialized) > SCRATCHPAD_LIMIT_BYTES) {
          throw problem('payload_too_large', { detail: `The scratch pad may hold at most ${SCRATCHPAD_LIMIT_BYTES} bytes serialized.` });
        }
        await putScratchpad(host, session.sessionId, serialized, context);
        return { status: 204 };
      },
    }),
  ];
}
