/**
 * The harness: runs benchmarks (in this process or each in its own child
 * process), gathers their figures, checks the targets and writes
 * latest.json and latest.md.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import type { BenchFigures, Benchmark, BenchOptions } from './bench';

export const BENCH_DIR = resolve(__dirname, '..');
export const REPO_ROOT = resolve(BENCH_DIR, '..');

/** Every benchmark of the suite, in run order, and the module exporting it. */
export const SUITE: ReadonlyArray<{ name: string; module: string; exportName: string }> = [
  { name: 'append64', module: 'append.bench.ts', exportName: 'append64' },
  { name: 'append_kurrentdb', module: 'append-kurrentdb.bench.ts', exportName: 'appendKurrentDb' },
  { name: 'http_record', module: 'http.bench.ts', exportName: 'httpRecord' },
  { name: 'query', module: 'http.bench.ts', exportName: 'query' },
  { name: 'fanout', module: 'fanout.bench.ts', exportName: 'fanout' },
  { name: 'sse_fanout', module: 'sse-fanout.bench.ts', exportName: 'sseFanout' },
  { name: 'rebuild', module: 'rebuild.bench.ts', exportName: 'rebuild' },
  { name: 'resume', module: 'resume.bench.ts', exportName: 'resume' },
  { name: 'search', module: 'search.bench.ts', exportName: 'search' },
];

/** Loads a benchmark by name; null when its module is not there (yet). */
export function loadBenchmark(name: string): Benchmark | null {
  const entry = SUITE.find((s) => s.name === name);
  if (!entry) throw new Error(`unknown benchmark ${name}; known: ${SUITE.map((s) => s.name).join(', ')}`);
  const file = join(BENCH_DIR, entry.module);
  if (!existsSync(file)) return null;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(file) as Record<string, unknown>;
  const found = (mod[entry.exportName] ?? Object.values(mod).find((v) => isBenchmark(v) && v.name === name)) as Benchmark | undefined;
  if (!isBenchmark(found)) throw new Error(`${entry.module} exports no Benchmark named ${name}`);
  return found;
}

function isBenchmark(value: unknown): value is Benchmark {
  return typeof value === 'object' && value !== null && typeof (value as Benchmark).run === 'function' && typeof (value as Benchmark).name === 'string';
}

export interface BenchOutcome {
  name: string;
  description: string;
  status: 'ok' | 'missing' | 'failed';
  figures: BenchFigures;
  seconds: number;
  error?: string;
}

export interface RunSettings {
  quick: boolean;
  trials: number;
  overrides?: Record<string, number>;
  log?: (message: string) => void;
}

/** Runs one benchmark in this process, with a scratch dir removed afterwards. */
export async function runInProcess(bench: Benchmark, settings: RunSettings): Promise<BenchOutcome> {
  const workDir = mkdtempSync(join(tmpdir(), `bench-${bench.name}-`));
  const started = Date.now();
  const log = settings.log ?? ((m: string) => process.stderr.write(`  [${bench.name}] ${m}\n`));
  const options: BenchOptions = { quick: settings.quick, trials: settings.trials, workDir, log, overrides: settings.overrides };
  try {
    const figures = await bench.run(options);
    return { name: bench.name, description: bench.description, status: 'ok', figures, seconds: (Date.now() - started) / 1000 };
  } catch (error) {
    return {
      name: bench.name,
      description: bench.description,
      status: 'failed',
      figures: {},
      seconds: (Date.now() - started) / 1000,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** Runs one benchmark in its own node process (bench/lib/child.ts), for isolation. */
export function runInChild(name: string, settings: RunSettings): Promise<BenchOutcome> {
  const out = join(mkdtempSync(join(tmpdir(), `bench-out-${name}-`)), 'outcome.json');
  const args = ['--expose-gc', '--max-old-space-size=4096', '-r', '@swc-node/register', join(__dirname, 'child.ts'), name, out, JSON.stringify({ quick: settings.quick, trials: settings.trials, overrides: settings.overrides })];
  const started = Date.now();
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, SWC_NODE_PROJECT: join(REPO_ROOT, 'tsconfig.json'), NODE_ENV: 'development' },
    });
    child.once('close', (code, signal) => {
      try {
        const outcome = JSON.parse(readFileSync(out, 'utf8')) as BenchOutcome;
        resolvePromise(outcome);
      } catch {
        resolvePromise({ name, description: '', status: 'failed', figures: {}, seconds: (Date.now() - started) / 1000, error: `child exited with ${code ?? signal} and no result` });
      } finally {
        rmSync(join(out, '..'), { recursive: true, force: true });
      }
    });
  });
}

// ---------------------------------------------------------------------------
// Targets (from the issue) and the report

export interface TargetCheck {
  bench: string;
  target: string;
  value: string;
  pass: boolean | null;
}

const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined || Number.isNaN(n) ? 'n/a' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined || b === 0 ? undefined : a / b);
const check = (value: number | undefined, ok: (v: number) => boolean): boolean | null => (value === undefined || Number.isNaN(value) ? null : ok(value));

export function checkTargets(results: Record<string, BenchFigures>): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const a = results.append64;
  if (a) {
    checks.push({ bench: 'append64', target: 'ours_eps ≥ 20,000 events/s', value: fmt(a.ours_eps), pass: check(a.ours_eps, (v) => v >= 20_000) });
    const r = ratio(a.ours_eps, a.peer_eps);
    checks.push({ bench: 'append64', target: 'ours/peer ≥ 3×', value: `${fmt(r, 2)}×`, pass: check(r, (v) => v >= 3) });
  }
  const h = results.http_record;
  if (h) {
    const r = ratio(h.ours_rps, h.floor_rps);
    checks.push({ bench: 'http_record', target: 'ours/floor ≥ 50%', value: `${fmt(r === undefined ? undefined : r * 100, 1)}%`, pass: check(r, (v) => v >= 0.5) });
  }
  const q = results.query;
  if (q) {
    checks.push({ bench: 'query', target: 'ours p99 ≤ 10 ms', value: `${fmt(q.ours_p99_ms, 1)} ms`, pass: check(q.ours_p99_ms, (v) => v <= 10) });
    const r = ratio(q.ours_rps, q.floor_rps);
    checks.push({ bench: 'query', target: 'ours/floor ≥ 60%', value: `${fmt(r === undefined ? undefined : r * 100, 1)}%`, pass: check(r, (v) => v >= 0.6) });
  }
  const f = results.fanout;
  if (f) {
    const p99 = f.ours_p99_ms;
    checks.push({ bench: 'fanout', target: 'ours p99 ≤ 100 ms', value: `${fmt(p99, 1)} ms`, pass: check(p99, (v) => v <= 100) });
    const r = ratio(p99, f.floor_p99_ms);
    checks.push({ bench: 'fanout', target: 'ours p99 ≤ 2× floor p99', value: `${fmt(r, 2)}×`, pass: check(r, (v) => v <= 2) });
    const b = ratio(f.ours_bytes_per_conn, f.floor_bytes_per_conn);
    checks.push({ bench: 'fanout', target: 'bytes/connection ≤ 2× floor', value: `${fmt(b, 2)}×`, pass: check(b, (v) => v <= 2) });
  }
  const rb = results.rebuild;
  if (rb) {
    // Against its floor in the same run (issue 17): a fixed rate meant a different target on every machine.
    const r = ratio(rb.ours_eps, rb.floor_eps);
    checks.push({ bench: 'rebuild', target: 'ours/floor ≥ 50%', value: `${fmt(r === undefined ? undefined : r * 100, 1)}%`, pass: check(r, (v) => v >= 0.5) });
  }
  const rs = results.resume;
  if (rs) {
    const ms = rs.ours_ms ?? rs.ours_catchup_ms ?? rs.catchup_ms;
    const s = rs.ours_s ?? (ms === undefined ? undefined : ms / 1000);
    checks.push({ bench: 'resume', target: 'resume < 5 s', value: `${fmt(s, 2)} s`, pass: check(s, (v) => v < 5) });
  }
  return checks;
}

export interface Machine {
  cpus: number;
  cpu_model: string;
  memory_gb: number;
  node: string;
  platform: string;
  date: string;
  quick: boolean;
  trials: number;
}

export function machineInfo(quick: boolean, trials: number): Machine {
  const list = cpus();
  return {
    cpus: list.length,
    cpu_model: list[0]?.model ?? 'unknown',
    memory_gb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
    quick,
    trials,
  };
}

export interface Report {
  machine: Machine;
  total_seconds: number;
  outcomes: BenchOutcome[];
}

/** latest.json: each benchmark's figures under its name, plus the machine and the run's meta. */
export function toJson(report: Report): Record<string, unknown> {
  const json: Record<string, unknown> = { machine: report.machine, total_seconds: report.total_seconds };
  for (const o of report.outcomes) if (o.status === 'ok') json[o.name] = o.figures;
  json.targets = checkTargets(figuresOf(report));
  json.runs = report.outcomes.map((o) => ({ name: o.name, status: o.status, seconds: o.seconds, ...(o.error ? { error: o.error.split('\n')[0] } : {}) }));
  return json;
}

function figuresOf(report: Report): Record<string, BenchFigures> {
  return Object.fromEntries(report.outcomes.filter((o) => o.status === 'ok').map((o) => [o.name, o.figures]));
}

export function toMarkdown(report: Report): string {
  const m = report.machine;
  const results = figuresOf(report);
  const lines: string[] = [];
  lines.push('# Benchmark results', '');
  lines.push(
    `${m.date} · ${m.cpus} × ${m.cpu_model} · ${m.memory_gb} GB · Node ${m.node} · ${m.platform} · ` +
      `${m.quick ? '**--quick**' : 'full'} · ${m.trials} trial(s) per figure (median) · ${report.total_seconds.toFixed(0)} s in all`,
    '',
  );
  lines.push('Ratios are taken within this run only; compare ratios, not absolute figures, across machines.', '');
  lines.push('## Targets', '', '| benchmark | target | measured | pass |', '|---|---|---|---|');
  for (const c of checkTargets(results)) lines.push(`| ${c.bench} | ${c.target} | ${c.value} | ${c.pass === null ? 'n/a' : c.pass ? '✅ pass' : '❌ fail'} |`);
  lines.push('');
  lines.push('## Summary', '', '| benchmark | ours | floor | peer | ours/floor | ours/peer |', '|---|---|---|---|---|---|');
  for (const o of report.outcomes) {
    if (o.status !== 'ok') {
      lines.push(`| ${o.name} | ${o.status === 'missing' ? 'skipped: module missing' : 'failed'} | | | | |`);
      continue;
    }
    const f = o.figures;
    const key = ['eps', 'rps', 'p99_ms', 'catchup_ms', 'ms', 's'].find((k) => f[`ours_${k}`] !== undefined);
    if (!key) {
      lines.push(`| ${o.name} | ${Object.entries(f).map(([k, v]) => `${k} ${fmt(v, 1)}`).join(', ')} | | | | |`);
      continue;
    }
    const unit = key === 'eps' ? ' events/s' : key === 'rps' ? ' req/s' : key.endsWith('ms') ? ' ms' : ' s';
    const cell = (v: number | undefined) => (v === undefined ? '—' : `${fmt(v, v < 100 ? 2 : 0)}${unit}`);
    const rf = ratio(f[`ours_${key}`], f[`floor_${key}`]);
    const rp = ratio(f[`ours_${key}`], f[`peer_${key}`]);
    lines.push(
      `| ${o.name} | ${cell(f[`ours_${key}`])} | ${cell(f[`floor_${key}`])} | ${cell(f[`peer_${key}`])} | ${rf === undefined ? '—' : `${fmt(rf, 2)}×`} | ${rp === undefined ? '—' : `${fmt(rp, 2)}×`} |`,
    );
  }
  lines.push('');
  if (m.quick && results.rebuild) {
    lines.push(`Note: with --quick, rebuild replays ${fmt(results.rebuild.events)} events, not 1,000,000.`, '');
  }
  lines.push('## Figures', '');
  for (const o of report.outcomes) {
    lines.push(`### ${o.name}`, '');
    if (o.description) lines.push(o.description, '');
    if (o.status === 'missing') {
      lines.push(`_Skipped: its module (bench/${SUITE.find((s) => s.name === o.name)?.module}) does not exist yet._`, '');
      continue;
    }
    if (o.status === 'failed') {
      lines.push(`_Failed after ${o.seconds.toFixed(1)} s: ${(o.error ?? '').split('\n')[0]}_`, '');
      continue;
    }
    lines.push('| figure | value |', '|---|---|');
    for (const [key, value] of Object.entries(o.figures)) lines.push(`| ${key} | ${fmt(value, value < 100 ? 2 : 0)} |`);
    const ratios = ratiosOf(o.figures);
    if (ratios.length > 0) {
      lines.push('', '| ratio | value |', '|---|---|');
      for (const [label, value] of ratios) lines.push(`| ${label} | ${fmt(value, 2)}× |`);
    }
    lines.push('', `(${o.seconds.toFixed(1)} s)`, '');
  }
  return lines.join('\n') + '\n';
}

/** ours/floor and ours/peer for every ours_<x><suffix> with a matching floor_/peer_ figure. */
function ratiosOf(figures: BenchFigures): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const key of Object.keys(figures)) {
    if (!key.startsWith('ours_')) continue;
    const rest = key.slice('ours_'.length);
    for (const other of ['floor', 'peer']) {
      const b = figures[`${other}_${rest}`];
      const r = ratio(figures[key], b);
      if (r !== undefined) out.push([`${key} / ${other}_${rest}`, r]);
    }
  }
  return out;
}

export function writeResults(dir: string, report: Report): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'latest.json');
  const md = join(dir, 'latest.md');
  writeFileSync(json, JSON.stringify(toJson(report), null, 2) + '\n');
  writeFileSync(md, toMarkdown(report));
  return { json, md };
}
