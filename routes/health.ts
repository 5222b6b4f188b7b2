// /health/live and /health/ready, for load balancers and orchestrators.
import { object, string } from 'yup';
import { problem } from '../contract/problems.js';
import { route, type RouteDeps, type RouteSpec } from './define.js';

const statusSchema = object({ status: string().oneOf(['ok']).required() });

export function healthRoutes({ host, lifecycle }: RouteDeps): RouteSpec[] {
  return [
    route({
      method: 'get', path: '/health/live', operationId: 'live', tag: 'Service', access: 'public',
      summary: 'The process is running',
      responses: { 200: { description: 'Alive', schema: statusSchema } },
      problems: [],
      async handle() {
        return { status: 200, body: { status: 'ok' } };
      },
    }),
    route({
      method: 'get', path: '/health/ready', operationId: 'ready', tag: 'Service', access: 'public',
      summary: 'The host answers and this instance is not shutting down: it can serve requests',
      responses: { 200: { description: 'Ready', schema: statusSchema } },
      problems: [503],
      async handle() {
        if (lifecycle.draining) throw problem('shutting_down');
        try {
          await host.ping();
        } catch {
          throw problem('host_unavailable');
        }
        return { status: 200, body: { status: 'ok' }, headers: { 'Cache-Control': 'no-store' } };
      },
    }),
  ];
}
