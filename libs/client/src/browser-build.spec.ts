import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBrowserModules, OUT_DIR, SOCKET_IO_ESM } from '../build-browser';

// The live page loads the checked-in browser copy; it must be what the sources compile to today.
describe('the browser copy of the client served to the live page', () => {
  const built = buildBrowserModules();

  it('is up to date with libs/client/src (run: node -r @swc-node/register libs/client/build-browser.ts)', () => {
    const onDisk = new Map(readdirSync(OUT_DIR).map((name) => [name, readFileSync(join(OUT_DIR, name), 'utf8')]));
    expect([...onDisk.keys()].sort()).toEqual([...built.keys()].sort());
    for (const [name, text] of built) expect({ name, text: onDisk.get(name) }).toEqual({ name, text });
  });

  it('imports only its own files and the ESM build of socket.io-client that the server serves', () => {
    const specifiers = [...built.values()].flatMap((text) => [...text.matchAll(/^(?:import|export)\b[^'"\n]*\bfrom\s+['"]([^'"]+)['"];$/gm)].map((m) => m[1]));
    expect(specifiers.length).toBeGreaterThan(0);
    for (const specifier of specifiers) expect(specifier).toMatch(new RegExp(`^(\\./[\\w-]+\\.js|${SOCKET_IO_ESM.replace(/[./]/g, '\\$&')})$`));
    expect(built.get('live-client.js')).toContain(`from '${SOCKET_IO_ESM}'`);
  });
});
