import 'reflect-metadata';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../apps/timeline-service/src/app.factory';
import { loadConfig } from '../../apps/timeline-service/src/config/app-config';
import { apiAt, type Api } from './http';

export interface RunningService {
  url: string;
  dataDir: string;
  app: NestExpressApplication;
  /** Closes the app; keeps the data unless `keepData` is false. */
  stop(options?: { removeData?: boolean }): Promise<void>;
}

/** The real service, on a random port, over a temporary SQLite store. */
export async function startService(env: Record<string, string> = {}, dataDir?: string): Promise<RunningService> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'timeline-e2e-'));
  // Suites make hundreds of requests a second; rate limits are tested on their own (access.e2e-spec.ts).
  const config = loadConfig({
    SEED_ON_START: 'false',
    RATE_LIMIT_WRITES_PER_MINUTE: '100000000',
    RATE_LIMIT_SUBSCRIBES_PER_MINUTE: '100000000',
    ...env,
    DATA_DIR: dir,
    PORT: '0',
  });
  const app = await createApp(config, { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    dataDir: dir,
    app,
    async stop({ removeData = true } = {}) {
      await app.close();
      if (removeData) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts one service for the enclosing describe block and stops it afterwards.
 * `beforeStop` runs first: what the suite must close before the app goes (its live sockets).
 */
export function useService(
  env: Record<string, string> = {},
  options: { beforeStop?: () => void } = {},
): { api: () => Api; service: () => RunningService } {
  let service: RunningService | undefined;
  beforeAll(async () => {
    service = await startService(env);
  });
  afterAll(async () => {
    options.beforeStop?.();
    await service?.stop();
  });
  return { api: () => apiAt(service!.url), service: () => service! };
}
