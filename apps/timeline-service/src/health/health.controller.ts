import { Controller, Get } from '@nestjs/common';
import type { Position } from '@timeline/event-store';
import { Projector, SqliteReadModel } from '@timeline/projections';
import { MonitoredEventStore } from './monitored-event-store';

export interface HealthProblem {
  /** store_unavailable | projection_stalled | dead_letters */
  code: string;
  message: string;
}

export interface HealthReport {
  /** 'ok' when nothing below is wrong; 'degraded' when `problems` says what is. */
  status: 'ok' | 'degraded';
  /** The last position the read model applied, or null. */
  checkpoint: Position | null;
  /** The last position of the log, or null when the log is empty or cannot be read now. */
  head: Position | null;
  /** Events in the log the read model has yet to apply (counted up to LAG_CAP), or null when unknown. */
  lag: number | null;
  /** Events the projector could not apply and set aside (never retried on their own). */
  deadLetters: number;
  /** 'unavailable' when the store failed a write or a read lately and has not succeeded since. */
  store: 'ok' | 'unavailable';
  problems: HealthProblem[];
}

/** How long /health waits for the store's head before calling the store unavailable. */
const HEAD_TIMEOUT_MS = 2000;
/** Lag is counted by reading the log after the checkpoint, at most this many events. */
export const LAG_CAP = 1000;

/**
 * GET /health: 200 {status, checkpoint, head, lag, deadLetters, store, problems}.
 *
 * It answers 200 when degraded too, on purpose. Degraded means one part is
 * down while the rest serves: the store refuses writes but queries keep being
 * answered from the read model; the projector retries; a poison event was set
 * aside. A 503 would make a load balancer or an orchestrator's readiness probe
 * take the instance out, and when the shared store is down that is every
 * instance: an outage of writes would become an outage of everything. So the
 * status code says "this instance answers", and the body says what is wrong:
 * alert on `status` (or on `problems`), route on the code. Only an instance
 * that cannot answer at all (not started, shutting down) fails the probe.
 *
 * Cheap enough to poll: the head is one indexed read; the store's condition is
 * what the last commands and queries met (see MonitoredEventStore), nothing is
 * written to find out; the lag is read only when the read model is behind.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly store: MonitoredEventStore,
    private readonly projector: Projector,
    private readonly readModel: SqliteReadModel,
  ) {}

  @Get()
  async health(): Promise<HealthReport> {
    const storeProblems: HealthProblem[] = [];
    const checkpoint = this.projector.checkpoint;
    let head: Position | null = null;
    let headReadable = true;
    try {
      head = await withTimeout(this.store.headPosition(), HEAD_TIMEOUT_MS, 'the event store did not answer within 2 s');
    } catch (error) {
      headReadable = false;
      // A StoreUnavailableError is also in the monitor's failures now; anything else (a timeout) only here.
      if (!this.store.currentFailures().some((f) => f.operation === 'read')) {
        storeProblems.push({ code: 'store_unavailable', message: `the event store cannot be read: ${messageOf(error)}` });
      }
    }

    for (const failure of this.store.currentFailures()) {
      const what = failure.operation === 'write' ? 'refused the last write' : 'failed the last read';
      const consequence = failure.operation === 'write' ? 'commands answer 503 until it takes writes again; queries are served from the read model' : 'queries of the log fail';
      storeProblems.push({
        code: 'store_unavailable',
        message: `the event store ${what} (${ago(failure.last)}; failing since ${failure.since.toISOString()}): ${failure.message}; ${consequence}`,
      });
    }
    const problems = [...storeProblems];

    if (this.projector.lastError !== null) {
      const since = this.projector.failingSince ? ` since ${this.projector.failingSince.toISOString()}` : '';
      problems.push({
        code: 'projection_stalled',
        message: `the projector cannot go past ${checkpoint ?? 'the start of the log'}${since}: ${messageOf(this.projector.lastError)}; it retries on its own, and queries show the read model as of the checkpoint`,
      });
    }

    const deadLetters = this.projector.deadLetters;
    if (deadLetters > 0) {
      const [first] = this.readModel.deadLetters({ limit: 1 });
      problems.push({
        code: 'dead_letters',
        message:
          `${deadLetters} event${deadLetters === 1 ? '' : 's'} could not be projected and ${deadLetters === 1 ? 'was' : 'were'} set aside as dead letters; ` +
          `the read model leaves ${deadLetters === 1 ? 'it' : 'them'} out` +
          (first ? `. First: ${first.type} at ${first.position} (${first.stream} revision ${first.revision}): ${first.error}` : ''),
      });
    }

    return {
      status: problems.length > 0 ? 'degraded' : 'ok',
      checkpoint,
      head,
      lag: headReadable ? await this.lag(checkpoint, head) : null,
      deadLetters,
      store: storeProblems.length > 0 ? 'unavailable' : 'ok',
      problems,
    };
  }

  /** Events after the checkpoint up to the head (positions are opaque: counted, not subtracted). */
  private async lag(checkpoint: Position | null, head: Position | null): Promise<number | null> {
    if (head === null || (checkpoint !== null && checkpoint >= head)) return 0;
    try {
      const behind = await this.store.readAll({ after: checkpoint ?? undefined, limit: LAG_CAP });
      return behind.filter((e) => e.position <= head).length;
    } catch {
      return null;
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function ago(at: Date): string {
  const seconds = Math.max(0, Math.round((Date.now() - at.getTime()) / 1000));
  return `${seconds} s ago`;
}
