// /app: a mobile-sized demo of the client kit (client/), served in development only.
import type Router from '@koa/router';

/** Mounts the demo page and the client kit's browser modules (filled in with the client kit, issue 16). */
export function mountDemoApp(_router: Router): void {
  // Not served yet.
}
