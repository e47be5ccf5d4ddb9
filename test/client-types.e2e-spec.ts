/**
 * The wire types (libs/contracts/src/wire.generated.ts), which the server's answers
 * and the client's types are both declared with, are generated from the OpenAPI
 * document the service serves and from docs/asyncapi.yaml: they must be what those
 * generate today, so a shape changed in a schema cannot leave the types behind.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService, type RunningService } from './support/service';
import { REPO_ROOT, spawnTs } from './support/ts-child';

jest.setTimeout(60_000);

const GENERATOR = join(REPO_ROOT, 'libs', 'contracts', 'generate-wire-types.ts');
const WIRE_TYPES_FILE = join(REPO_ROOT, 'libs', 'contracts', 'src', 'wire.generated.ts');

let service: RunningService;
let dir: string;
beforeAll(async () => {
  service = await startService();
  dir = mkdtempSync(join(tmpdir(), 'client-types-'));
});
afterAll(async () => {
  await service?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The generator's output for a document, from a child process (prettier, which it loads, cannot load inside jest). */
function generate(documentFile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawnTs(GENERATOR, ['--from', documentFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`generator exited ${code}: ${err}`))));
  });
}

it('libs/contracts/src/wire.generated.ts is what GET /docs-json and docs/asyncapi.yaml generate (run: node -r @swc-node/register libs/contracts/generate-wire-types.ts)', async () => {
  const documentFile = join(dir, 'openapi.json');
  writeFileSync(documentFile, await (await fetch(`${service.url}/docs-json`)).text());
  const generated = await generate(documentFile);
  expect(generated).toContain('export interface EntryMeta');
  expect(generated).toContain('export interface LiveUpdatePayload');
  expect(readFileSync(WIRE_TYPES_FILE, 'utf8')).toBe(generated);
});
