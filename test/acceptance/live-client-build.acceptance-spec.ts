/**
 * The live page's browser copy of @timeline/client is built by `npm run build`,
 * not kept under src/: the built artifact must hold and serve exactly what the
 * client's sources compile to today (libs/client/build-browser.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBrowserModules } from '../../libs/client/build-browser';
import { APP_DIR, startService, type RunningService } from './support/artifact';

jest.setTimeout(60_000);

const BUILT_DIR = join(APP_DIR, 'dist', 'apps', 'timeline-service', 'src', 'live', 'page', 'client');
const fromSources = buildBrowserModules();

describe('the browser copy of the client in the built artifact', () => {
  let service: RunningService | undefined;
  afterAll(async () => {
    await service?.stop();
  });

  it('is what libs/client/src compiles to today, file for file', () => {
    const built = new Map(readdirSync(BUILT_DIR).map((name) => [name, readFileSync(join(BUILT_DIR, name), 'utf8')]));
    expect([...built.keys()].sort()).toEqual([...fromSources.keys()].sort());
    for (const [name, text] of fromSources) expect({ name, text: built.get(name) }).toEqual({ name, text });
  });

  it('is what the built service serves to the live page', async () => {
    service = await startService();
    for (const [name, text] of fromSources) {
      const reply = await fetch(`${service.url}/live/assets/client/${name}`);
      expect({ name, status: reply.status, type: reply.headers.get('content-type') }).toEqual({ name, status: 200, type: 'text/javascript; charset=utf-8' });
      expect({ name, text: await reply.text() }).toEqual({ name, text });
    }
  });
});
