import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..');

/**
 * Runs a TypeScript entry point in a real child process (SWC compiles it on
 * load, honouring tsconfig paths), so tests can kill -9 it or run several.
 */
export function spawnTs(entry: string, args: string[] = [], options: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, ['-r', '@swc-node/register', entry, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
    env: { ...process.env, SWC_NODE_PROJECT: join(REPO_ROOT, 'tsconfig.json'), ...options.env },
  });
}
