/**
 * The real service as a child process (apps/timeline-service/src/main.ts,
 * compiled by SWC on load), on a chosen port over a chosen data dir, so that
 * a test can kill -9 it and start it again on the same data.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { waitForHealth } from './free-port';
import { spawnTs } from './ts-child';

export const SERVICE_MAIN = join(__dirname, '..', '..', 'apps', 'timeline-service', 'src', 'main.ts');

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal) once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startServiceProcess(options: {
  port: number;
  dataDir: string;
  env?: Record<string, string>;
  healthTimeoutMs?: number;
}): Promise<ServiceProcess> {
  const child = spawnTs(SERVICE_MAIN, [], {
    env: {
      PORT: String(options.port),
      HOST: '127.0.0.1',
      DATA_DIR: options.dataDir,
      SEED_ON_START: 'false',
      // Nothing inherited from the shell that runs the tests: the embedded store,
      // and development mode (no API keys, everything allowed) unless a test says otherwise.
      EVENTSTORE_CONNECTION_STRING: '',
      READ_MODEL_FILE: '',
      API_KEYS: '',
      API_KEYS_FILE: '',
      NODE_ENV: 'development',
      ...options.env,
    },
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${options.port}`;
  const service: ServiceProcess = {
    url,
    child,
    output: () => output,
    exited,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  const died = exited.then(({ code, signal }) => {
    throw new Error(`the service exited (${code ?? signal}) before it was healthy`);
  });
  died.catch(() => undefined); // only a failure while we wait for health
  try {
    await Promise.race([waitForHealth(url, options.healthTimeoutMs ?? 30_000), died]);
  } catch (error) {
    await service.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${output}`);
  }
  return service;
}
