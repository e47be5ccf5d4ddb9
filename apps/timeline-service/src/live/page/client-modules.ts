import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * @timeline/client as browser ES modules (index.js, http-client.js, ...), which
 * live.js imports, by file name. Built from libs/client/src by
 * libs/client/build-browser.ts, never kept under src/:
 * - compiled (dist/, `npm start`, the image): `npm run build` wrote them beside
 *   this file; a build without them fails here, at start, not in a browser;
 * - from the TypeScript sources (jest): built in memory by the same function,
 *   so the tests serve what the build would write.
 */
export function liveClientModules(): Map<string, string> {
  if (__filename.endsWith('.ts')) {
    // Only when running the sources: the builder needs TypeScript, a dev dependency.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildBrowserModules } = require('../../../../../libs/client/build-browser') as typeof import('../../../../../libs/client/build-browser');
    return buildBrowserModules();
  }
  const dir = join(__dirname, 'client');
  if (!existsSync(dir)) throw new Error(`no ${dir}: the live page's client modules are built by \`npm run build\` (libs/client/build-browser.ts)`);
  return new Map(
    readdirSync(dir)
      .filter((name) => name.endsWith('.js'))
      .map((name) => [name, readFileSync(join(dir, name), 'utf8')]),
  );
}
