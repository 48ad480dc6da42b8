// GET /metrics: Prometheus text exposition of the daemon's metrics (see daemon/metrics/metrics.ts).
import { HttpError } from '../core/http-error';
import type { RouteContext } from './route';

export async function serveMetrics(ctx: RouteContext): Promise<void> {
  const metrics = ctx.deps.metrics;
  if (!metrics) throw new HttpError(404, 'metrics are not enabled in this daemon', 'not_found_error', 'unknown_route');
  const { contentType, text } = await metrics.exposition();
  ctx.res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  ctx.res.end(text);
}
