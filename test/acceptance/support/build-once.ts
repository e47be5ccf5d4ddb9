import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { APP_DIR, CLI_MAIN, NODE, REPO_ROOT, SERVICE_MAIN } from './artifact';
import { checkStoreSetup } from './store';

/**
 * Jest's global setup for the acceptance suite: build the artifact once, with
 * the project's own build (`npm run build`, what `npm start` and the image run),
 * unless ACCEPTANCE_APP_DIR names an install that was built and installed already.
 * It also checks ACCEPTANCE_STORE (./store.ts) before any test file runs.
 */
export default function buildOnce(): void {
  const store = checkStoreSetup();
  if (APP_DIR === REPO_ROOT) {
    const build = spawnSync('npm', ['run', 'build'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build failed (${build.status}):\n${build.stdout}\n${build.stderr}`);
  }
  for (const file of [SERVICE_MAIN, CLI_MAIN]) {
    if (!existsSync(file)) throw new Error(`no ${file}: the acceptance suite runs the built artifact`);
  }
  const version = spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
  process.stdout.write(`\nacceptance: ${SERVICE_MAIN} on node ${version}, event store: ${store}\n`);
}
