/**
 * A smoke test of the benchmark harness (not a benchmark: `npm run bench`
 * runs those). One tiny append64 run through the harness's API, and the
 * results it writes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { append64 } from './append.bench';
import { checkTargets, machineInfo, runInProcess, toMarkdown, writeResults } from './lib/harness';

describe('bench harness (smoke)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs a tiny append64 and writes valid latest.json and latest.md', async () => {
    const outcome = await runInProcess(append64, { quick: true, trials: 1, overrides: { durationMs: 150, writers: 64 }, log: () => undefined });
    expect(outcome.error).toBeUndefined();
    expect(outcome.status).toBe('ok');
    for (const key of ['ours_eps', 'floor_eps', 'peer_eps']) {
      expect(typeof outcome.figures[key]).toBe('number');
      expect(outcome.figures[key]).toBeGreaterThan(0);
    }

    const report = { machine: machineInfo(true, 1), total_seconds: outcome.seconds, outcomes: [outcome] };
    const written = writeResults(dir, report);
    const json = JSON.parse(readFileSync(written.json, 'utf8')) as Record<string, any>;
    expect(json.append64.ours_eps).toBe(outcome.figures.ours_eps);
    expect(json.machine).toMatchObject({ cpus: expect.any(Number), node: process.version, quick: true });
    expect(readFileSync(written.md, 'utf8')).toContain('### append64');
    expect(toMarkdown(report)).toContain('ours_eps / peer_eps');
    expect(checkTargets({ append64: outcome.figures }).map((c) => c.target)).toContain('ours/peer ≥ 3×');
  }, 10_000);
});
