import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';

/** Every metric of ours starts with this. */
export const PREFIX = 'timeline_';

let processRegistry: Registry | null = null;

/**
 * prom-client's default metrics (CPU, memory, event loop lag, GC, handles):
 * about the process, so registered once per process, however many apps it
 * runs (tests do), and merged into each app's /metrics.
 */
function processMetrics(): Registry {
  if (processRegistry === null) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** The app's own registry (one per app instance), and its /metrics text. */
@Injectable()
export class AppMetrics {
  readonly registry = new Registry();

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of the app's metrics and the process's. */
  text(): Promise<string> {
    return Registry.merge([this.registry, processMetrics()]).metrics();
  }
}
