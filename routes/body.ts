// Request bodies: JSON only (415 otherwise), at most 64 KiB (413), parsed
// strictly (400 when malformed), nested no deeper than a contract body can be.
import type { Context } from 'koa';
import { HttpMethodEnum, koaBody } from 'koa-body';
import { invalid, problem } from '../contract/problems.js';

export const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * The reader a route calls when it declares a body (after authentication, so
 * a stranger's body is never parsed); a route that takes none never reads
 * one, and answers nothing about it.
 */
export function jsonBodyReader(): (ctx: Context) => Promise<void> {
  const parse = koaBody({
    json: true, urlencoded: false, text: false, multipart: false,
    jsonLimit: BODY_LIMIT_BYTES, jsonStrict: true,
    parsedMethods: [HttpMethodEnum.POST, HttpMethodEnum.PUT, HttpMethodEnum.PATCH, HttpMethodEnum.DELETE],
    onError(error) {
      const status = (error as { status?: number }).status;
      if (status === 413) throw problem('payload_too_large');
      if (status === 415) throw problem('unsupported_media_type');
      throw problem('malformed_json');
    },
  });
  return async function readJsonBody(ctx: Context): Promise<void> {
    if (!ctx.request.length && !ctx.get('Transfer-Encoding')) return; // no body at all
    if (ctx.request.length > BODY_LIMIT_BYTES) throw problem('payload_too_large');
    if (!ctx.is('application/json')) throw problem('unsupported_media_type');
    await parse(ctx, async () => undefined);
    if (depthExceeds(ctx.request.body, MAX_JSON_DEPTH)) {
      throw invalid([{ path: '', message: `must not be nested deeper than ${MAX_JSON_DEPTH} levels` }]);
    }
  };
}

/** No contract body nests deeper than a few levels; deeper ones only exhaust stacks downstream. */
export const MAX_JSON_DEPTH = 32;

/** Iterative, so the check itself cannot overflow the stack. */
function depthExceeds(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [node, depth] = next;
    if (node === null || typeof node !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

