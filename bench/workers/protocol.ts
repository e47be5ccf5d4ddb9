/**
 * Shared plumbing for the fanout and resume benchmarks: forking TypeScript
 * workers with an IPC channel, request/answer over that channel, wall-clock
 * time comparable across processes, percentiles.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export const REPO_ROOT = join(__dirname, '..', '..');

/** Wall-clock milliseconds with sub-ms resolution; comparable across processes on one machine. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

export interface Request {
  id: number;
  cmd: string;
  [key: string]: unknown;
}
export interface Answer {
  id: number;
  ok: boolean;
  error?: string;
  [key: string]: unknown;
}

/** A forked worker answering `{id, cmd, ...}` requests with `{id, ok, ...}`. */
export class Worker {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (a: Answer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  readonly exited: Promise<number | null>;
  private output = '';

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (c: Buffer) => (this.output = (this.output + c.toString()).slice(-8000)));
    child.stderr?.on('data', (c: Buffer) => (this.output = (this.output + c.toString()).slice(-8000)));
    child.on('message', (message: unknown) => {
      const answer = message as Answer;
      const waiting = this.pending.get(answer.id);
      if (!waiting) return;
      this.pending.delete(answer.id);
      clearTimeout(waiting.timer);
      if (answer.ok) waiting.resolve(answer);
      else waiting.reject(new Error(`${this.name}: ${answer.error ?? 'failed'}`));
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        for (const [, waiting] of this.pending) {
          clearTimeout(waiting.timer);
          waiting.reject(new Error(`${this.name} exited (${code}) while a request was pending\n${this.output}`));
        }
        this.pending.clear();
        resolve(code);
      }),
    );
  }

  request<T extends Answer = Answer>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: no answer to ${cmd} within ${timeoutMs} ms\n${this.output}`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (a: Answer) => void, reject, timer });
      this.child.send({ id, cmd, ...args });
    });
  }

  /** Asks the worker to exit; kills it if it has not within the timeout. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.send({ id: 0, cmd: 'exit' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * Forks bench/workers/<file>.ts under SWC with an IPC channel. With
 * BENCH_CPU_PROF=<dir> in the environment, server workers write a V8 CPU
 * profile there when they exit (for finding the bottleneck).
 */
export function forkWorker(file: string, args: string[], name: string, extraExecArgv: string[] = []): Worker {
  const profile = process.env['BENCH_CPU_PROF'] && file === 'server.ts' ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF']}`] : [];
  const child = fork(join(__dirname, file), args, {
    cwd: REPO_ROOT,
    execArgv: ['-r', '@swc-node/register', ...extraExecArgv, ...profile],
    env: { ...process.env, SWC_NODE_PROJECT: join(REPO_ROOT, 'tsconfig.json') },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  return new Worker(name, child);
}

let profiler: Session | null = null;

function post(session: Session, method: string): Promise<unknown> {
  return new Promise((resolve, reject) => session.post(method, (error, result) => (error ? reject(error) : resolve(result))));
}

/**
 * `profile` {action: 'start'} / {action: 'stop', path}: a V8 CPU profile of
 * this worker for just that window, written to `path` (for finding the
 * bottleneck of one phase of a benchmark).
 */
async function profile(request: Request): Promise<Record<string, unknown>> {
  if (request['action'] === 'start') {
    profiler = new Session();
    profiler.connect();
    await post(profiler, 'Profiler.enable');
    await post(profiler, 'Profiler.start');
    return {};
  }
  if (!profiler) throw new Error('no profile started');
  const { profile: result } = (await post(profiler, 'Profiler.stop')) as { profile: unknown };
  profiler.disconnect();
  profiler = null;
  writeFileSync(String(request['path']), JSON.stringify(result));
  return { path: request['path'] };
}

/**
 * Serves requests in a worker: `handle` returns the answer's fields or throws.
 * Every worker also serves `exit`, `profile` and `cpu` (process.cpuUsage(): {user, system} µs).
 */
export function serveRequests(handle: (request: Request) => Promise<Record<string, unknown>>): void {
  process.on('message', (message: unknown) => {
    const request = message as Request;
    if (request.cmd === 'exit') {
      process.exit(0);
    }
    const answer =
      request.cmd === 'profile' ? profile(request) : request.cmd === 'cpu' ? Promise.resolve({ ...process.cpuUsage() }) : handle(request);
    answer.then(
      (fields) => process.send?.({ ...fields, id: request.id, ok: true }),
      (error: unknown) => process.send?.({ id: request.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  });
  // The parent going away ends the worker too.
  process.on('disconnect', () => process.exit(0));
}

/** Nearest-rank percentile of ascending-sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** Runs `task` over `items` with at most `limit` in flight. */
export async function inPool<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!, index);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** A realistic entry body: a signing with summary, sources and tags (about 1 KB as an update). */
export function entryBody(i: number): Record<string, unknown> {
  return {
    kind: 'signing',
    occurredOn: '2024-06-13',
    title: `Japan and Ukraine sign a ten-year security accord (${i})`,
    summary:
      'At the G7 summit in Apulia the two leaders signed an accord committing Japan to support Ukraine ' +
      'for ten years: non-lethal equipment, demining, reconstruction finance and cyber defence, with a ' +
      'pledge reviewed every year by both governments.',
    actors: ['JP', 'UA'],
    sources: [
      { title: 'Japan Increases Its Support for Ukraine', publisher: 'CSIS', url: 'https://www.csis.org/analysis/japan-increases-its-support-ukraine', publishedOn: '2024-08-07' },
      { title: 'Accord on Support for Ukraine and Cooperation', publisher: 'MOFA', publishedOn: '2024-06-13' },
    ],
    tags: ['security-accord', 'g7', 'bilateral'],
    parties: ['JP', 'UA'],
    instrument: 'Accord on Support for Ukraine and Cooperation',
    place: 'Apulia, Italy',
    termYears: 10,
  };
}

export interface Written {
  entryId: string;
  position: string;
}

/** POST /timelines/:slug/entries; resolves with the 201 body and the wall time it arrived. */
export async function recordEntry(base: string, slug: string, body: unknown): Promise<{ written: Written; at: number }> {
  const reply = await fetch(`${base}/timelines/${slug}/entries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await reply.text();
  const at = wallNow();
  if (reply.status !== 201) throw new Error(`recording into ${slug} answered ${reply.status}: ${text}`);
  return { written: JSON.parse(text) as Written, at };
}

export async function openTimeline(base: string, slug: string): Promise<string> {
  const reply = await fetch(`${base}/timelines`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ slug, title: 'Japan and Ukraine: security cooperation' }),
  });
  const text = await reply.text();
  if (reply.status !== 201) throw new Error(`opening ${slug} answered ${reply.status}: ${text}`);
  return (JSON.parse(text) as { position: string }).position;
}

/** Splits n into `parts` near-equal counts. */
export function split(n: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0)).filter((c) => c > 0);
}

/**
 * Open loop: publish(i) for i = 1, 2, ... at `ratePerS`, each at start + (i - 1) / rate whatever
 * the answers do, for `warmupS` then `windowS` seconds. Resolves once all are answered, with the
 * time each position after the warm-up was answered (t0) and the highest position.
 */
export async function publishPaced(
  publish: (i: number) => Promise<{ position: string; at: number }>,
  ratePerS: number,
  warmupS: number,
  windowS: number,
): Promise<{ t0: Record<string, number>; last: string }> {
  const total = ratePerS * (warmupS + windowS);
  const warmup = ratePerS * warmupS;
  const t0: Record<string, number> = {};
  let last = '';
  const start = wallNow() + 50;
  const sent: Promise<void>[] = [];
  for (let i = 1; i <= total; i++) {
    const wait = start + ((i - 1) * 1000) / ratePerS - wallNow();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait)); // pacing, not synchronisation
    sent.push(
      publish(i).then(({ position, at }) => {
        if (i > warmup) t0[position] = at;
        if (position > last) last = position;
      }),
    );
  }
  await Promise.all(sent);
  return { t0, last };
}
