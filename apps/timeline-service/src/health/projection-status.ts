import { Injectable } from '@nestjs/common';
import type { Position } from '@timeline/event-store';
import { Projector } from '@timeline/projections';
import { MonitoredEventStore } from './monitored-event-store';

/** /health counts the lag by reading the log after the checkpoint, at most this many events. */
export const LAG_CAP = 1000;

/** How long a probe waits for the store's head before calling the store unreachable. */
export const HEAD_TIMEOUT_MS = 2000;

export interface ProjectionSnapshot {
  /** The last position the read model applied, or null. */
  checkpoint: Position | null;
  /** The last position of the log, or null when the log is empty or could not be read. */
  head: Position | null;
  /** Why the head could not be read, or null when it was. */
  headError: string | null;
  /** Events in the log after the checkpoint, counted up to `limit`; null when unknown (the store cannot be read). */
  lag: number | null;
  /** Seconds since the oldest event the read model has yet to apply was recorded; 0 when caught up; null when unknown. */
  lagSeconds: number | null;
}

/**
 * Where the read model stands against the log: for /health, /health/ready and
 * /metrics. Reads the store through its monitor, so a failure here shows in
 * /health like any other read. Positions are opaque (the embedded store's are
 * numbers, KurrentDB's are byte offsets): the lag is counted, not subtracted,
 * by reading at most `limit` events after the checkpoint, and only when the
 * read model is behind.
 */
@Injectable()
export class ProjectionStatus {
  constructor(
    private readonly store: MonitoredEventStore,
    private readonly projector: Projector,
  ) {}

  async snapshot(limit: number): Promise<ProjectionSnapshot> {
    const checkpoint = this.projector.checkpoint;
    let head: Position | null;
    try {
      head = await withTimeout(this.store.headPosition(), HEAD_TIMEOUT_MS, `the event store did not answer within ${HEAD_TIMEOUT_MS / 1000} s`);
    } catch (error) {
      return { checkpoint, head: null, headError: messageOf(error), lag: null, lagSeconds: null };
    }
    if (head === null || (checkpoint !== null && checkpoint >= head)) return { checkpoint, head, headError: null, lag: 0, lagSeconds: 0 };
    try {
      const behind = (await this.store.readAll({ after: checkpoint ?? undefined, limit })).filter((e) => e.position <= head);
      const oldest = behind[0] ? Date.parse(behind[0].recordedAt) : NaN;
      return {
        checkpoint,
        head,
        headError: null,
        lag: behind.length,
        lagSeconds: Number.isNaN(oldest) ? null : Math.max(0, (Date.now() - oldest) / 1000),
      };
    } catch {
      return { checkpoint, head, headError: null, lag: null, lagSeconds: null };
    }
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A position as a number for a gauge: the event number in the embedded store, the commit position in KurrentDB. */
export function positionNumber(position: Position | null): number {
  if (position === null) return 0;
  const digits = /^\d+/.exec(position)?.[0];
  return digits === undefined ? NaN : Number(digits);
}
