/**
 * Crash safety: the real service as a child process, eight concurrent writers
 * and a live client, killed with SIGKILL at a random moment, a dozen times
 * over, and restarted on the same data each time.
 *
 * Every request carries its own x-correlation-id, which the service writes
 * into the metadata of the events it appends, so the log itself says which
 * request produced which event. At the end:
 * - every write acknowledged (201/200) is in the log exactly once, at the
 *   position it was acknowledged with; a refused one is absent; one that got
 *   no answer is absent or present once; no event comes from nowhere;
 * - the log is sound: unique ids, increasing positions, each entry stream
 *   recorded once with revisions 0..n;
 * - the live client, reconnecting on its own to each new process and
 *   resuming after its last position, received exactly the timeline's change
 *   positions in the log, in order, without gap or duplicate;
 * - `timeline verify` (hash chains intact, and the stored read model equals a
 *   replay of the log) exits 0.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { runCli } from './support/cli';
import { freePort } from './support/free-port';
import { startServiceProcess, type ServiceProcess } from './support/service-process';
import type { LogItem as LogEvent } from '@timeline/client';

const correlationOf = (e: LogEvent): string => String(e.metadata.correlationId ?? '');

jest.setTimeout(180_000);

const ENV = { RATE_LIMIT_WRITES_PER_MINUTE: '1000000', RATE_LIMIT_SUBSCRIBES_PER_MINUTE: '1000000' };
const ROUNDS = 12;
const WRITERS = 8;
const SLUG = 'crash-story';

interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** One HTTP request; null when no answer came (the process died, or was not there). Never retried. */
function send(agent: Agent, url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply | null> {
  const { hostname, port } = new URL(url);
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve) => {
    const outgoing = request(
      {
        host: hostname,
        port,
        method,
        path,
        agent,
        headers: { ...headers, ...(text === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('error', () => resolve(null));
        response.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = raw;
          try {
            parsed = JSON.parse(raw);
          } catch {
            // not JSON
          }
          resolve({ status: response.statusCode ?? 0, body: parsed });
        });
      },
    );
    outgoing.on('error', () => resolve(null));
    outgoing.end(text);
  });
}

type Outcome = 'pending' | 'acked' | 'refused' | 'unanswered';

interface Attempt {
  correlationId: string;
  kind: 'record' | 'retry' | 'correct';
  entryId: string;
  round: number;
  outcome: Outcome;
  status?: number;
  /** From the acknowledgement. */
  position?: string;
  revision?: number;
}


describe('kill -9 under concurrent writes, restart on the same data', () => {
  let dataDir: string;
  let port: number;
  let service: ServiceProcess | undefined;
  let live: Socket | undefined;
  const outputs: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'timeline-crash-'));
    port = await freePort();
  });

  afterAll(async () => {
    live?.close();
    if (service) await service.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(`keeps every acknowledged write exactly once through ${ROUNDS} kills, and the live client loses nothing`, async () => {
    const attempts: Attempt[] = [];
    const failures: string[] = [];
    /** Acknowledged entries and the revision we last knew (null: unknown since an unanswered correction). */
    const known = new Map<string, number | null>();
    /** Recordings that got no answer: retried, with the same body, in a later round. */
    const unansweredBodies = new Map<string, Record<string, unknown>>();
    const bodies = new Map<string, Record<string, unknown>>();
    let counter = 0;

    const start = async () => {
      service = await startServiceProcess({ port, dataDir, env: ENV });
      return service;
    };

    // --- The timeline, and a live client that follows it the way the README's client does.
    let current = await start();
    const agent0 = new Agent({ keepAlive: true });
    const opened = await send(agent0, current.url, 'POST', '/timelines', { slug: SLUG, title: 'A story written through crashes' });
    agent0.destroy();
    expect(opened?.status).toBe(201);
    const openedAt = opened!.body.position as string;

    const received: string[] = [];
    let last = openedAt;
    let subscriptions = 0;
    const liveProblems: string[] = [];
    live = io(`${current.url}/live`, {
      transports: ['websocket'],
      reconnection: true,
      reconnectionDelay: 50,
      reconnectionDelayMax: 200,
      randomizationFactor: 0,
      timeout: 2000,
    });
    live.on('connect', () => {
      // On every (re)connect, resume after the last position seen.
      const after = last;
      const connection = live!.id;
      live!.timeout(5000).emit('subscribe', { timeline: SLUG, after }, (error: Error | null, ack: { ok: boolean; error?: unknown }) => {
        if (error) {
          // No ack is only wrong if this very connection is still up (not killed meanwhile).
          if (live!.connected && live!.id === connection) liveProblems.push(`no ack to subscribe after ${after}`);
        } else if (!ack.ok) liveProblems.push(`subscribe after ${after} refused: ${JSON.stringify(ack)}`);
        else subscriptions += 1;
      });
    });
    live.on('update', (u: { timeline: string; position: string }) => {
      if (u.timeline !== SLUG) liveProblems.push(`update of another timeline: ${JSON.stringify(u)}`);
      received.push(u.position);
      last = u.position;
    });
    live.on('resync', (r: unknown) => liveProblems.push(`resync: ${JSON.stringify(r)}`));

    const until = async (condition: () => boolean, what: string, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };

    // --- The writers.
    async function writer(w: number, round: number, url: string, agent: Agent, stopped: () => boolean): Promise<void> {
      while (!stopped()) {
        const roll = Math.random();
        const n = ++counter;
        const correlationId = `crash-${round}-${w}-${n}`;
        const headers = { 'x-correlation-id': correlationId };
        const retryable = [...unansweredBodies.keys()];
        const entries = [...known.keys()];
        if (roll < 0.1 && retryable.length > 0) {
          // A retry of a recording that got no answer: same entryId, same body.
          const entryId = retryable[Math.floor(Math.random() * retryable.length)];
          unansweredBodies.delete(entryId);
          const attempt: Attempt = { correlationId, kind: 'retry', entryId, round, outcome: 'pending' };
          attempts.push(attempt);
          const reply = await send(agent, url, 'POST', `/timelines/${SLUG}/entries`, bodies.get(entryId), headers);
          settle(attempt, reply, 201);
          if (attempt.outcome === 'acked') known.set(entryId, known.get(entryId) ?? 0);
          else unansweredBodies.set(entryId, bodies.get(entryId)!);
        } else if (roll < 0.4 && entries.length > 0) {
          const entryId = entries[Math.floor(Math.random() * entries.length)];
          let revision = known.get(entryId) ?? null;
          if (revision === null) {
            const read = await send(agent, url, 'GET', `/entries/${entryId}`);
            if (!read || read.status !== 200) continue;
            revision = read.body.revision as number;
            known.set(entryId, revision);
          }
          const attempt: Attempt = { correlationId, kind: 'correct', entryId, round, outcome: 'pending' };
          attempts.push(attempt);
          const reply = await send(
            agent,
            url,
            'PATCH',
            `/entries/${entryId}`,
            { changes: { title: `Corrected by ${correlationId}` }, reason: 'a crash test correction' },
            { ...headers, 'if-match': `"${revision}"` },
          );
          settle(attempt, reply, 200, [412]);
          if (attempt.outcome === 'acked') {
            if (attempt.revision !== revision + 1) failures.push(`${correlationId}: corrected revision ${revision} into ${attempt.revision}`);
            known.set(entryId, attempt.revision!);
          } else known.set(entryId, null); // stale, or unknown: read it again before the next correction
        } else {
          const entryId = randomUUID();
          const body = {
            kind: 'announcement',
            entryId,
            occurredOn: '2024-06-13',
            title: `Recorded by ${correlationId}`,
            actors: ['JP', 'UA'],
            announcer: 'JP',
            stage: 'announced',
          };
          bodies.set(entryId, body);
          const attempt: Attempt = { correlationId, kind: 'record', entryId, round, outcome: 'pending' };
          attempts.push(attempt);
          const reply = await send(agent, url, 'POST', `/timelines/${SLUG}/entries`, body, headers);
          settle(attempt, reply, 201);
          if (attempt.outcome === 'acked') known.set(entryId, 0);
          else if (attempt.outcome === 'unanswered') unansweredBodies.set(entryId, body);
        }
      }
    }

    function settle(attempt: Attempt, reply: Reply | null, success: number, expectedRefusals: number[] = []): void {
      if (reply === null) {
        attempt.outcome = 'unanswered';
        return;
      }
      attempt.status = reply.status;
      if (reply.status === success) {
        attempt.outcome = 'acked';
        attempt.position = reply.body.position;
        attempt.revision = reply.body.revision;
        if (reply.body.entryId !== attempt.entryId) failures.push(`${attempt.correlationId}: answered for ${reply.body.entryId}`);
        if (attempt.kind !== 'correct' && reply.body.revision !== 0) failures.push(`${attempt.correlationId}: recorded at revision ${reply.body.revision}`);
        return;
      }
      attempt.outcome = 'refused';
      if (!expectedRefusals.includes(reply.status)) failures.push(`${attempt.correlationId} (${attempt.kind}): ${reply.status} ${JSON.stringify(reply.body)}`);
    }

    // --- The rounds: write, kill -9 at a random moment, start again.
    const killedAfter: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (round > 0) current = await start();
      // The live client finds the new process by itself (same port) and resumes.
      await until(() => subscriptions >= round + 1, `the live client to resubscribe in round ${round}`);
      const agent = new Agent({ keepAlive: true, maxSockets: WRITERS });
      let stopped = false;
      const writers = Array.from({ length: WRITERS }, (_, w) => writer(w, round, current.url, agent, () => stopped));
      const delay = 100 + Math.floor(Math.random() * 600);
      killedAfter.push(delay);
      await new Promise((r) => setTimeout(r, delay));
      stopped = true;
      const exit = await current.kill('SIGKILL');
      outputs.push(current.output());
      agent.destroy();
      await Promise.all(writers);
      expect(exit.signal).toBe('SIGKILL');
      service = undefined;
    }

    // --- Restart once more, and let the retries of unanswered recordings through.
    current = await start();
    await until(() => subscriptions >= ROUNDS + 1, 'the live client to resubscribe after the last restart');
    const agent = new Agent({ keepAlive: true });
    for (const [entryId, body] of unansweredBodies) {
      const attempt: Attempt = { correlationId: `crash-final-${++counter}`, kind: 'retry', entryId, round: ROUNDS, outcome: 'pending' };
      attempts.push(attempt);
      settle(attempt, await send(agent, current.url, 'POST', `/timelines/${SLUG}/entries`, body, { 'x-correlation-id': attempt.correlationId }), 201);
    }

    // --- The log, page by page.
    const log: LogEvent[] = [];
    for (let after: string | null = null; ; ) {
      const page: Reply | null = await send(agent, current.url, 'GET', `/events?limit=1000${after ? `&after=${after}` : ''}`);
      expect(page?.status).toBe(200);
      log.push(...(page!.body.items as LogEvent[]));
      after = page!.body.next;
      if (!after) break;
    }
    agent.destroy();

    const summary = {
      rounds: ROUNDS,
      killedAfterMs: killedAfter,
      attempts: attempts.length,
      acked: attempts.filter((a) => a.outcome === 'acked').length,
      ackedCorrections: attempts.filter((a) => a.outcome === 'acked' && a.kind === 'correct').length,
      refused: attempts.filter((a) => a.outcome === 'refused').length,
      unanswered: attempts.filter((a) => a.outcome === 'unanswered').length,
      unansweredButRecorded: attempts.filter((a) => a.outcome === 'unanswered' && log.some((e) => e.metadata.correlationId === a.correlationId)).length,
      events: log.length,
      liveUpdates: received.length,
    };
    console.log(`crash: ${JSON.stringify(summary)}`);

    expect(failures).toEqual([]);
    expect(attempts.filter((a) => a.outcome === 'pending')).toEqual([]);
    expect(summary.acked).toBeGreaterThan(ROUNDS * 10);
    expect(summary.unanswered).toBeGreaterThan(0); // the kills did land mid-request

    // The log is sound: unique ids, positions 1, 2, 3, ... (the embedded store numbers them so).
    expect(new Set(log.map((e) => e.id)).size).toBe(log.length);
    expect(log.map((e) => Number(e.position))).toEqual(log.map((_, i) => i + 1));

    // Each entry stream: recorded once, revisions 0..n in log order.
    const streams = new Map<string, LogEvent[]>();
    for (const e of log) streams.set(e.stream, [...(streams.get(e.stream) ?? []), e]);
    const streamProblems: string[] = [];
    for (const [stream, events] of streams) {
      if (!events.every((e, i) => e.revision === i)) streamProblems.push(`${stream}: revisions ${events.map((e) => e.revision).join(',')}`);
      if (stream.startsWith('entry-')) {
        const recorded = events.filter((e) => e.type.endsWith('Recorded'));
        if (recorded.length !== 1 || events[0].type !== 'AnnouncementRecorded') streamProblems.push(`${stream}: ${events.map((e) => e.type).join(',')}`);
      }
    }
    expect(streamProblems).toEqual([]);

    // Request by request, by correlation id: exactly once if acknowledged, never if refused, at most once if unanswered.
    const byCorrelation = new Map<string, LogEvent[]>();
    for (const e of log) {
      const id = correlationOf(e);
      byCorrelation.set(id, [...(byCorrelation.get(id) ?? []), e]);
    }
    const byPosition = new Map(log.map((e) => [e.position, e]));
    const attemptProblems: string[] = [];
    for (const a of attempts) {
      const own = byCorrelation.get(a.correlationId) ?? [];
      const stream = `entry-${a.entryId}`;
      const what = `${a.correlationId} (${a.kind}, ${a.outcome}${a.status ? ` ${a.status}` : ''})`;
      if (own.length > 1) attemptProblems.push(`${what}: ${own.length} events`);
      if (own.some((e) => e.stream !== stream)) attemptProblems.push(`${what}: an event in another stream`);
      if (a.outcome === 'refused' && own.length > 0) attemptProblems.push(`${what}: refused, yet appended at ${own[0].position}`);
      if (a.outcome !== 'acked') continue;
      const at = byPosition.get(a.position!);
      if (!at || at.stream !== stream) {
        attemptProblems.push(`${what}: acknowledged position ${a.position} holds ${at ? `${at.stream} ${at.type}` : 'nothing'}`);
        continue;
      }
      if (a.kind === 'correct') {
        if (own.length !== 1 || own[0].position !== a.position || at.type !== 'EntryCorrected' || at.revision !== a.revision) {
          attemptProblems.push(`${what}: ${own.length} events, at ${own.map((e) => `${e.position} ${e.type} r${e.revision}`).join(',')}; acknowledged ${a.position} r${a.revision}`);
        }
      } else if (at.type !== 'AnnouncementRecorded' || at.revision !== 0) {
        attemptProblems.push(`${what}: acknowledged position ${a.position} holds ${at.type} r${at.revision}`);
      } else if (a.kind === 'record' && (own.length !== 1 || own[0].position !== a.position)) {
        attemptProblems.push(`${what}: ${own.length} events of its own`);
      } else if (a.kind === 'retry' && own.length === 1 && own[0].position !== a.position) {
        attemptProblems.push(`${what}: appended at ${own[0].position}, acknowledged ${a.position}`);
      }
    }
    // No event that no request asked for.
    const asked = new Set(attempts.map((a) => a.correlationId));
    for (const e of log) {
      if (e.type !== 'TimelineOpened' && !asked.has(correlationOf(e))) attemptProblems.push(`${e.position} ${e.stream} ${e.type}: no request asked for it`);
    }
    expect(attemptProblems).toEqual([]);

    // Every acknowledged entry reads back, at its last revision.
    const reads = new Agent({ keepAlive: true });
    const readProblems: string[] = [];
    for (const entryId of new Set(attempts.filter((a) => a.outcome === 'acked').map((a) => a.entryId))) {
      const reply = await send(reads, current.url, 'GET', `/entries/${entryId}`);
      const events = streams.get(`entry-${entryId}`) ?? [];
      if (reply?.status !== 200 || reply.body.revision !== events.length - 1) {
        readProblems.push(`${entryId}: ${reply?.status} revision ${reply?.body?.revision}, log has ${events.length} events`);
      }
    }
    const timeline = await send(reads, current.url, 'GET', `/timelines/${SLUG}`);
    reads.destroy();
    expect(readProblems).toEqual([]);
    expect(timeline?.body.entryCount).toBe([...streams.keys()].filter((s) => s.startsWith('entry-')).length);

    // The live client: every change of the timeline after where it began, once, in order, across every restart.
    const changes = log.filter((e) => e.stream.startsWith('entry-') && e.data.timeline === SLUG && e.position > openedAt).map((e) => e.position);
    await until(() => received.length >= changes.length, `the live client to catch up (${received.length} of ${changes.length})`).catch(() => undefined);
    expect(liveProblems).toEqual([]);
    expect(received.every((p, i) => i === 0 || p > received[i - 1])).toBe(true);
    expect(received).toEqual(changes);
    expect(subscriptions).toBe(ROUNDS + 1);
    live!.close();

    // A graceful stop, then the read model must equal a fresh rebuild and every chain be intact.
    const stopped = await current.kill('SIGTERM');
    service = undefined;
    expect(stopped.code).toBe(0);
    outputs.push(current.output());
    // Nothing went wrong inside either: no error logged by any of the processes (500s, projector failures),
    // in pino's JSON lines or in a pretty/plain line.
    expect(outputs.flatMap((o) => o.split('\n').filter((line) => /"level":"(error|fatal)"|"level":(50|60)\b|\bERROR\b/.test(line)))).toEqual([]);
    const verify = await runCli(['verify'], { DATA_DIR: dataDir });
    expect({ code: verify.code, output: verify.output }).toMatchObject({
      code: 0,
      output: expect.stringMatching(/verify: OK: \d+ events .* every hash chain intact, and the read model matches the log/),
    });
  });
});
