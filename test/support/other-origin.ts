import express, { type Express } from 'express';
import type { AddressInfo } from 'node:net';

export interface OtherOrigin {
  /** http://localhost:<port>: never the origin of a service on 127.0.0.1, whatever the port. */
  url: string;
  close(): Promise<void>;
}

/**
 * A second web server for the browser tests, on its own random port: a page
 * "elsewhere", as a newsroom's article or CMS is (an <iframe> host, a page
 * that loads TimelineJS). `routes` adds its pages. Express, which the service
 * already runs on, rather than a hand-written file server.
 */
export async function startOtherOrigin(routes: (app: Express) => void): Promise<OtherOrigin> {
  const app = express();
  routes(app);
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
