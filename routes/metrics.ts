// GET /metrics: Prometheus text format. Keep it off the public internet at the
// load balancer (deploy/nginx.conf does).
import { string } from 'yup';
import { route, type RouteDeps, type RouteSpec } from './define.js';

export function metricsRoutes({ metrics }: RouteDeps): RouteSpec[] {
  return [
    route({
      method: 'get', path: '/metrics', operationId: 'metrics', tag: 'Service', access: 'public',
      summary: 'Prometheus metrics of this process',
      responses: { 200: { description: 'Prometheus text exposition format', schema: string() } },
      problems: [],
      async handle() {
        return { status: 200, body: await metrics.text(), headers: { 'Content-Type': metrics.contentType } };
      },
    }),
  ];
}
