/**
 * An SSE stream read with plain fetch and an independent parser
 * (eventsource-parser, the one the `eventsource` package is built on): every
 * message, comment and `retry` kept in order, with waits for "n messages"
 * bounded by a timeout. For the tests of GET /timelines/:slug/stream.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface SseReader {
  readonly status: number;
  readonly headers: Headers;
  readonly messages: EventSourceMessage[];
  readonly comments: string[];
  readonly retries: number[];
  /** Resolves once `n` messages (all events) have arrived, with them. */
  waitForMessages(n: number, timeoutMs?: number): Promise<EventSourceMessage[]>;
  /** Resolves once `predicate` holds for what has arrived. */
  waitFor(predicate: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  /** The body of a non-200 answer, parsed. */
  readonly errorBody: unknown;
  close(): void;
}

const open = new Set<SseReader>();

/** Closes every reader the test opened. */
export function closeAllSse(): void {
  for (const reader of open) reader.close();
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const messages: EventSourceMessage[] = [];
  const comments: string[] = [];
  const retries: number[] = [];
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((w) => w());
  let errorBody: unknown;
  let ended: Promise<void> = Promise.resolve();
  let done = false;
  if (response.status !== 200) {
    errorBody = await response.json();
  } else {
    const parser = createParser({
      onEvent: (message) => {
        messages.push(message);
        notify();
      },
      onComment: (comment) => {
        comments.push(comment);
        notify();
      },
      onRetry: (ms) => retries.push(ms),
    });
    ended = (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
      } catch {
        // aborted by close()
      } finally {
        done = true;
        notify();
      }
    })();
  }
  const waitFor = (predicate: () => boolean, what: string, timeoutMs = 5000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (predicate()) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        } else if (done) {
          waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`stream ended before ${what} (got ${messages.length} messages)`));
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what} (got ${messages.length} messages)`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const reader: SseReader = {
    status: response.status,
    headers: response.headers,
    messages,
    comments,
    retries,
    errorBody,
    ended,
    waitFor,
    async waitForMessages(n, timeoutMs) {
      await waitFor(() => messages.length >= n, `${n} messages`, timeoutMs);
      return messages.slice(0, n);
    },
    close() {
      open.delete(reader);
      abort.abort();
    },
  };
  open.add(reader);
  return reader;
}
