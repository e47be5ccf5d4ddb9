/**
 * A raw HTTP client for adversarial tests. Unlike fetch, it sends the path
 * exactly as given (no dot-segment normalisation, so `..` and `%2e%2e` reach
 * the server), any body bytes (invalid UTF-8 included), any content type or
 * none, and repeated headers; and it never throws on a status.
 */
import { Agent, request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

export interface RawRequest {
  method: string;
  /** Sent verbatim: already percent-encoded where wanted. */
  path: string;
  /** A header given as an array is sent once per value. */
  headers?: OutgoingHttpHeaders;
  /** Bytes or text; a string is sent as UTF-8. */
  body?: Buffer | string;
}

export interface RawReply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed body when it was JSON, else undefined. */
  json: unknown;
}

export interface RawClient {
  send(req: RawRequest): Promise<RawReply>;
  close(): void;
}

/** A short, printable description of a request, for failure messages. */
export function describeRequest(req: RawRequest): string {
  const body = req.body === undefined ? '' : ` body(${Buffer.byteLength(req.body)}B)=${preview(req.body)}`;
  const headers = req.headers && Object.keys(req.headers).length > 0 ? ` headers=${preview(JSON.stringify(req.headers))}` : '';
  return `${req.method} ${preview(req.path)}${headers}${body}`;
}

function preview(value: Buffer | string): string {
  const text = typeof value === 'string' ? value : value.toString('latin1');
  return text.length > 300 ? `${JSON.stringify(text.slice(0, 300))}… (${text.length} chars)` : JSON.stringify(text);
}

export function rawClient(baseUrl: string, options: { maxSockets?: number } = {}): RawClient {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 16 });

  function once(req: RawRequest, useAgent: Agent | false): Promise<RawReply> {
    return new Promise((resolve, reject) => {
      const headers: OutgoingHttpHeaders = { ...(req.headers ?? {}) };
      if (req.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
        headers['content-length'] = Buffer.byteLength(req.body);
      }
      const outgoing = request(
        { host: url.hostname, port: url.port, method: req.method, path: req.path, headers, agent: useAgent },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (c: Buffer) => chunks.push(c));
          response.on('error', reject);
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            if ((response.headers['content-type'] ?? '').includes('json') && text !== '') {
              try {
                json = JSON.parse(text);
              } catch {
                json = undefined;
              }
            }
            resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json });
          });
        },
      );
      outgoing.on('error', reject);
      if (req.body !== undefined) outgoing.end(req.body);
      else outgoing.end();
    });
  }

  return {
    async send(req) {
      try {
        return await once(req, agent);
      } catch (error) {
        // A server may answer an oversized body early and close the connection
        // while we still write (EPIPE/ECONNRESET), or a kept-alive socket may
        // have been closed under us. One more try on a fresh connection.
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ECONNRESET' && code !== 'EPIPE' && code !== 'ECONNREFUSED') throw error;
        return once(req, false);
      }
    },
    close: () => agent.destroy(),
  };
}
