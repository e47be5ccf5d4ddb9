import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Histogram } from 'prom-client';
import { AppMetrics, PREFIX } from './app-metrics';

/**
 * Duration of every HTTP request, by method, route pattern (`/timelines/:slug/entries`,
 * never the URL itself, so the number of series stays bounded) and status.
 * A request no route matched (404s, bodies refused before routing) is `unmatched`.
 * createApp mounts `middleware` before anything else, so refusals by guards,
 * pipes and body parsing are measured too.
 */
@Injectable()
export class HttpMetrics {
  private readonly duration: Histogram<'method' | 'route' | 'status'>;

  constructor(metrics: AppMetrics) {
    this.duration = new Histogram({
      name: `${PREFIX}http_request_duration_seconds`,
      help: 'HTTP requests: time from arrival to the end of the response, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [metrics.registry],
    });
  }

  readonly middleware = (request: Request, response: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    let done = false;
    const record = () => {
      if (done) return;
      done = true;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // A connection closed before the answer was sent has no status of its own.
      const status = response.writableFinished ? String(response.statusCode) : 'aborted';
      this.duration.observe({ method: request.method, route: routeOf(request), status }, seconds);
    };
    response.once('finish', record);
    response.once('close', record);
    next();
  };
}

function routeOf(request: Request): string {
  const path = (request.route as { path?: unknown } | undefined)?.path;
  // Nest answers unknown paths (404) from a catch-all route, `{/*splat}`: none of ours has a wildcard.
  if (typeof path !== 'string' || path.includes('*')) return 'unmatched';
  return `${request.baseUrl ?? ''}${path}`;
}
