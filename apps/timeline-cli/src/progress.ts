import { Presets, SingleBar } from 'cli-progress';

/** Reports how far a long run over the log has got. */
export interface ProgressReporter {
  /** `done` events so far. */
  update(done: number): void;
  /** Ends the bar (or prints the last plain line). Safe to call twice. */
  stop(): void;
}

export interface ProgressOptions {
  /** Events expected, when known in advance (enables the percentage and the ETA). */
  total?: number | null;
  /**
   * Where progress goes: stderr by default, so that stdout carries only results
   * (and `export` can write the log itself to stdout).
   */
  stream?: NodeJS.WriteStream;
  /** Forces the bar (true) or plain lines (false); by default, a bar only on a terminal. */
  tty?: boolean;
  /** Plain lines: at most one per this many milliseconds (the last one is always printed). */
  intervalMs?: number;
}

/**
 * On a terminal, a cli-progress bar with the rate in events/s and the ETA.
 * Elsewhere (a pipe, a log file, CI), plain lines such as
 * `rebuild: 50000/100000 events (12345 events/s)`, at most two per second.
 */
export function progressReporter(label: string, options: ProgressOptions = {}): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? stream.isTTY === true;
  return tty ? new BarProgress(label, stream, options.total ?? null) : new LineProgress(label, stream, options.total ?? null, options.intervalMs ?? 500);
}

/** Events per second, rounded, for humans. */
export function rate(events: number, elapsedMs: number): number {
  return elapsedMs <= 0 ? events : Math.round((events * 1000) / elapsedMs);
}

class LineProgress implements ProgressReporter {
  private readonly started = Date.now();
  private lastLineAt = 0;
  private done = 0;
  private printed = -1;
  private stopped = false;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WritableStream,
    private readonly total: number | null,
    private readonly intervalMs: number,
  ) {}

  update(done: number): void {
    this.done = done;
    const now = Date.now();
    if (now - this.lastLineAt >= this.intervalMs) {
      this.lastLineAt = now;
      this.print(now);
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.printed !== this.done) this.print(Date.now());
  }

  private print(now: number): void {
    this.printed = this.done;
    const count = this.total === null ? `${this.done}` : `${this.done}/${Math.max(this.total, this.done)}`;
    this.stream.write(`${this.label}: ${count} events (${rate(this.done, now - this.started)} events/s)\n`);
  }
}

class BarProgress implements ProgressReporter {
  private readonly started = Date.now();
  private readonly bar: SingleBar;
  private running = false;
  private stopped = false;

  constructor(
    label: string,
    stream: NodeJS.WritableStream,
    private readonly total: number | null,
  ) {
    // Without a total there is nothing to take a percentage of, nor an ETA: count and rate only.
    const format =
      total === null
        ? `${label} {value} events | {speed} events/s | {duration_formatted}`
        : `${label} [{bar}] {percentage}% | {value}/{total} events | {speed} events/s | ETA {eta_formatted}`;
    this.bar = new SingleBar({ stream, format, fps: 5, etaBuffer: 20, hideCursor: true, clearOnComplete: false }, Presets.shades_classic);
  }

  update(done: number): void {
    const speed = rate(done, Date.now() - this.started);
    // An estimated total can be passed (events appended meanwhile): never show more than 100%.
    const total = Math.max(this.total ?? done, done);
    if (!this.running) {
      this.running = true;
      this.bar.start(total, done, { speed });
      return;
    }
    if (total !== this.bar.getTotal()) this.bar.setTotal(total);
    this.bar.update(done, { speed });
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.running) this.bar.stop();
  }
}
