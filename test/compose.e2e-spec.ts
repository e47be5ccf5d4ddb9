/**
 * docker-compose.yml and the Dockerfile, read as data. No Docker engine runs
 * here, so nothing is built or started: these checks hold the files to what
 * issue 7 asks (KurrentDB pinned, single insecure node, named volumes, health
 * checks, the service waiting for a healthy KurrentDB; a multi-stage build on a
 * Node 20+ slim base with production dependencies only, a non-root user and a
 * health check) and to the repository (every path copied exists and is not
 * ignored, the command runs what `npm run build` produces, the environment is
 * what the service reads).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../apps/timeline-service/src/config/app-config';

/* eslint-disable @typescript-eslint/no-explicit-any */

const ROOT = join(__dirname, '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

// ---------------------------------------------------------------- compose

const compose: any = parseYaml(read('docker-compose.yml'));
const services: Record<string, any> = compose.services ?? {};
const kurrentdb = services.kurrentdb;
const service = services['timeline-service'];

/** `${VAR:-default}` / `${VAR-default}` / `${VAR}` as compose resolves them with an empty environment. */
function interpolate(value: string): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::?[-?]([^}]*))?\}/g, (_all, _name, fallback) => fallback ?? '');
}

/** A service's environment as a map, from either the list or the map form. */
function environmentOf(definition: any): Record<string, string> {
  const env = definition?.environment ?? {};
  const entries: Array<[string, unknown]> = Array.isArray(env)
    ? env.map((line: string) => {
        const at = line.indexOf('=');
        return at < 0 ? [line, ''] : [line.slice(0, at), line.slice(at + 1)];
      })
    : Object.entries(env);
  return Object.fromEntries(entries.map(([k, v]) => [k, interpolate(String(v ?? ''))]));
}

/** "host:container[/proto]" port mappings as {published, target}. */
function portsOf(definition: any): Array<{ published: string; target: string }> {
  return (definition?.ports ?? []).map((port: any) => {
    if (typeof port === 'object') return { published: String(port.published), target: String(port.target) };
    const parts = String(port).replace(/\/(tcp|udp)$/, '').split(':');
    return { published: parts.at(-2) ?? '', target: parts.at(-1)! };
  });
}

/** Volume mounts as {source, target}; short ("name:/path[:ro]") or long syntax. */
function mountsOf(definition: any): Array<{ type: string; source: string; target: string }> {
  return (definition?.volumes ?? []).map((v: any) => {
    if (typeof v === 'object') return { type: v.type ?? 'volume', source: String(v.source ?? ''), target: String(v.target) };
    const [source, target] = String(v).split(':');
    const type = target === undefined ? 'anonymous' : /^[./~]|^\$/.test(source) ? 'bind' : 'volume';
    return { type, source: target === undefined ? '' : source, target: target ?? source };
  });
}

function healthcheckCommand(definition: any): string {
  const test = definition?.healthcheck?.test;
  return Array.isArray(test) ? test.join(' ') : String(test ?? '');
}

const kurrentEnv = environmentOf(kurrentdb);
const serviceEnv = environmentOf(service);

/** The port KurrentDB listens on inside its container (2113 unless KURRENTDB_NODE_PORT says otherwise). */
const kurrentPort = kurrentEnv.KURRENTDB_NODE_PORT ?? '2113';

describe('docker-compose.yml', () => {
  it('has exactly KurrentDB and the timeline service', () => {
    expect(Object.keys(services).sort()).toEqual(['kurrentdb', 'timeline-service']);
  });

  describe('kurrentdb', () => {
    it('runs the LTS image at a pinned version, not a moving tag', () => {
      const match = /^docker\.kurrent\.io\/kurrent-lts\/kurrentdb:(\d+)\.(\d+)\.(\d+)(@sha256:[0-9a-f]{64})?$/.exec(kurrentdb.image);
      expect(match).not.toBeNull();
      expect(Number(match![1])).toBeGreaterThanOrEqual(25); // KurrentDB, not EventStoreDB
    });

    it('is a single insecure node', () => {
      expect(kurrentEnv.KURRENTDB_CLUSTER_SIZE).toBe('1');
      expect(kurrentEnv.KURRENTDB_INSECURE).toBe('true');
      expect(kurrentPort).toBe('2113');
    });

    it('is configured with current KurrentDB option names only (KURRENTDB_NODE_PORT, not the deprecated HTTP_PORT)', () => {
      const known = new Set([
        'KURRENTDB_CLUSTER_SIZE',
        'KURRENTDB_INSECURE',
        'KURRENTDB_NODE_PORT',
        'KURRENTDB_RUN_PROJECTIONS',
        'KURRENTDB_START_STANDARD_PROJECTIONS',
        'KURRENTDB_ENABLE_ATOM_PUB_OVER_HTTP',
        'KURRENTDB_MEM_DB',
        'KURRENTDB_LOG_LEVEL',
      ]);
      expect(Object.keys(kurrentEnv).filter((key) => !known.has(key))).toEqual([]);
      expect(['None', 'System', 'All']).toContain(kurrentEnv.KURRENTDB_RUN_PROJECTIONS);
    });

    it('publishes its port 2113', () => {
      expect(portsOf(kurrentdb)).toContainEqual({ published: '2113', target: kurrentPort });
    });

    it('keeps its data in a named volume at /var/lib/kurrentdb', () => {
      const data = mountsOf(kurrentdb).find((m) => m.target === '/var/lib/kurrentdb');
      expect(data).toMatchObject({ type: 'volume' });
      expect(Object.keys(compose.volumes ?? {})).toContain(data!.source);
    });

    it('has a health check on /health/live of its own port, with retries', () => {
      const command = healthcheckCommand(kurrentdb);
      expect(command).toMatch(new RegExp(`https?://(localhost|127\\.0\\.0\\.1):${kurrentPort}/health/live`));
      expect(command).toMatch(/curl (-\w*f|--fail)/); // curl must fail on an error status for the check to mean anything
      expect(kurrentdb.healthcheck.retries).toBeGreaterThanOrEqual(3);
      expect(kurrentdb.healthcheck.interval).toMatch(/^\d+(ms|s|m)$/);
    });
  });

  describe('timeline-service', () => {
    it('is built from the Dockerfile in the repository', () => {
      const build = typeof service.build === 'string' ? { context: service.build } : service.build;
      expect(build.context).toBe('.');
      expect(existsSync(join(ROOT, build.dockerfile ?? 'Dockerfile'))).toBe(true);
    });

    it('starts once KurrentDB is healthy', () => {
      expect(service.depends_on).toEqual({ kurrentdb: { condition: 'service_healthy' } });
    });

    it('connects to the kurrentdb service, without TLS', () => {
      const connection = serviceEnv.EVENTSTORE_CONNECTION_STRING;
      expect(connection).toBeDefined();
      const url = new URL(connection);
      expect(url.protocol).toBe('kurrentdb:');
      expect(url.hostname).toBe('kurrentdb'); // the service's name on the compose network, not localhost
      expect(Object.keys(services)).toContain(url.hostname);
      expect(url.port).toBe(kurrentPort);
      expect(url.searchParams.get('tls')).toBe('false');
    });

    it('sets only variables the service reads, with values it accepts', () => {
      const appConfig = read('apps/timeline-service/src/config/app-config.ts');
      for (const key of Object.keys(serviceEnv)) expect(appConfig).toContain(`'${key}'`);
      // What the container sees: the image's ENV, overridden by compose's environment.
      const config = loadConfig({ ...dockerfile.env, ...serviceEnv });
      expect(config.eventStoreConnectionString).toBe(serviceEnv.EVENTSTORE_CONNECTION_STRING);
      // With no keys given, `docker compose up` must still start: not in production mode
      // (which the image sets, and which refuses to start without keys).
      expect(config.production && config.apiKeys.length === 0).toBe(false);
    });

    it('publishes the port it listens on', () => {
      const port = serviceEnv.PORT ?? '3000';
      expect(portsOf(service)).toContainEqual({ published: '3000', target: port });
      const exposed = dockerfile.final.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(' ').map((p) => p.replace(/\/tcp$/, '')));
      expect(exposed).toContain(port);
    });

    it('keeps its read model in a named volume at DATA_DIR', () => {
      const dataDir = serviceEnv.DATA_DIR ?? '/app/data';
      const mount = mountsOf(service).find((m) => m.target === dataDir);
      expect(mount).toMatchObject({ type: 'volume' });
      expect(Object.keys(compose.volumes ?? {})).toContain(mount!.source);
    });

    it("keeps the image's health check (not disabled, or one on /health/live)", () => {
      if (service.healthcheck) {
        expect(service.healthcheck.disable).not.toBe(true);
        expect(healthcheckCommand(service)).toContain('/health/live');
      }
      expect(dockerfile.healthcheck).toContain('/health/live');
    });
  });

  it('declares every named volume it mounts, and mounts every one it declares', () => {
    const mounted = Object.values(services).flatMap((s) => mountsOf(s).filter((m) => m.type === 'volume').map((m) => m.source));
    expect(mounted.length).toBeGreaterThanOrEqual(2);
    expect(new Set(mounted)).toEqual(new Set(Object.keys(compose.volumes ?? {})));
  });
});

// -------------------------------------------------------------- Dockerfile

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let pending = '';
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*#/.test(line)) continue;
    if (/\\\s*$/.test(line)) {
      pending += line.replace(/\\\s*$/, ' ');
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    if (whole) logical.push(whole);
  }
  return logical.map((line) => {
    const [, keyword, args] = /^(\S+)\s*(.*)$/.exec(line)!;
    return { keyword: keyword.toUpperCase(), args: args.replace(/\s+/g, ' ').trim() };
  });
}

function dockerfileFacts(instructions: Instruction[]) {
  const args: Record<string, string> = {};
  const stages: Array<{ image: string; name?: string; instructions: Instruction[] }> = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'ARG' && stages.length === 0) {
      const [name, value] = instruction.args.split('=');
      args[name] = value ?? '';
    } else if (instruction.keyword === 'FROM') {
      const [image, as, name] = instruction.args.replace(/^--platform=\S+\s+/, '').split(' ');
      const resolved = image.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_all, n) => args[n] ?? '');
      stages.push({ image: resolved, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  const final = stages.at(-1)?.instructions ?? [];
  const env: Record<string, string> = {};
  for (const instruction of final.filter((i) => i.keyword === 'ENV')) {
    for (const [, key, value] of instruction.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) env[key] = value.replace(/^"|"$/g, '');
  }
  return {
    stages,
    final,
    env,
    healthcheck: final.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '',
  };
}

const dockerfile = dockerfileFacts(parseDockerfile(read('Dockerfile')));

/** .dockerignore patterns as a matcher on repository-relative paths (and their parents). */
function dockerignored(): (path: string) => boolean {
  const patterns = read('.dockerignore')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('!'));
  const regexes = patterns.map(
    (p) =>
      new RegExp(
        '^' +
          p
            .replace(/^\.?\//, '')
            .replace(/[.+^$()|[\]{}]/g, '\\$&')
            .replace(/\*\*\//g, '\u0000')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]')
            .replace(/\u0000/g, '(?:.*/)?') +
          '(?:/.*)?$',
      ),
  );
  return (path) => regexes.some((r) => r.test(path.replace(/^\.\//, '').replace(/\/$/, '')));
}

/** The sources of a COPY/ADD (JSON or plain form), without flags. */
function copySources(args: string): { from?: string; sources: string[] } {
  const from = /--from=(\S+)/.exec(args)?.[1];
  const rest = args.replace(/--\S+/g, '').trim();
  const parts = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(' ');
  return { from, sources: parts.slice(0, -1) };
}

describe('Dockerfile', () => {
  it('builds in at least two stages', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
  });

  it('uses a slim Node 20 or later base, at a pinned version, in every stage', () => {
    for (const stage of dockerfile.stages) {
      const match = /^node:(\d+)(\.\d+\.\d+)?-(bookworm|bullseye|trixie)-slim$/.exec(stage.image);
      expect(match).not.toBeNull();
      expect(Number(match![1])).toBeGreaterThanOrEqual(20);
      expect(match![2]).toBeDefined(); // e.g. 20.20.2, not a moving "20"
    }
  });

  it('meets the engines field of package.json', () => {
    const [major, minor] = /^node:(\d+)\.(\d+)/.exec(dockerfile.stages.at(-1)!.image)!.slice(1).map(Number);
    const engines = JSON.parse(read('package.json')).engines.node as string;
    const [wantMajor, wantMinor] = /(\d+)\.(\d+)/.exec(engines)!.slice(1).map(Number);
    expect(major > wantMajor || (major === wantMajor && minor >= wantMinor)).toBe(true);
  });

  it('runs as a non-root user', () => {
    const users = dockerfile.final.filter((i) => i.keyword === 'USER').map((i) => i.args.split(':')[0]);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0']).not.toContain(users.at(-1));
  });

  it('has a health check on /health/live that needs no curl (slim images have none)', () => {
    expect(dockerfile.healthcheck).toContain('/health/live');
    expect(dockerfile.healthcheck).toMatch(/\bnode\b/);
    expect(dockerfile.healthcheck).not.toMatch(/\b(curl|wget)\b/);
    expect(dockerfile.healthcheck).toMatch(/process\.env\.PORT/); // follows PORT when it is changed
  });

  it('ships production dependencies only', () => {
    const runs = (instructions: Instruction[]) => instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    const finalRuns = runs(dockerfile.final).join('\n');
    const copiedModules = dockerfile.final
      .filter((i) => i.keyword === 'COPY')
      .map((i) => copySources(i.args))
      .find((c) => c.sources.some((s) => /node_modules/.test(s)));
    if (copiedModules) {
      // Copied from a build stage: that stage's last npm step prunes (or installs without) dev dependencies.
      const stage = dockerfile.stages.find((s) => s.name === copiedModules.from);
      expect(stage).toBeDefined();
      const npmSteps = runs(stage!.instructions).flatMap((r) => r.split(/&&|;/)).map((s) => s.trim()).filter((s) => /^npm (ci|install|i|prune)\b/.test(s));
      expect(npmSteps.at(-1)).toMatch(/--omit=dev|--production/);
    } else {
      expect(finalRuns).toMatch(/npm (ci|install)\b[^\n]*--omit=dev/);
    }
    expect(finalRuns).not.toMatch(/\b(g\+\+|make|python3|build-essential)\b/); // no toolchain in the image
    const env = dockerfile.final.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ');
    expect(env).toMatch(/NODE_ENV=production/);
  });

  it('copies from the build context only paths that exist and that .dockerignore keeps', () => {
    const ignored = dockerignored();
    const sources = dockerfile.stages
      .flatMap((s) => s.instructions)
      .filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')
      .map((i) => copySources(i.args))
      .filter((c) => c.from === undefined)
      .flatMap((c) => c.sources);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect([source, existsSync(join(ROOT, source))]).toEqual([source, true]);
      expect([source, ignored(source)]).toEqual([source, false]);
    }
  });

  it('copies what `npm run build` needs: the lockfile, the configs and every nest project', () => {
    const copied = new Set(
      dockerfile.stages
        .flatMap((s) => s.instructions)
        .filter((i) => i.keyword === 'COPY' && !/--from=/.test(i.args))
        .flatMap((i) => copySources(i.args).sources.map((s) => s.replace(/^\.\//, '').replace(/\/$/, ''))),
    );
    const covered = (path: string) => copied.has('.') || [...copied].some((c) => path === c || path.startsWith(`${c}/`));
    const nest = JSON.parse(read('nest-cli.json'));
    const swcrc = nest.compilerOptions.builder.options.swcrcPath as string; // the build compiles with SWC and this config
    const needed = ['package.json', 'package-lock.json', 'tsconfig.json', 'nest-cli.json', swcrc, ...Object.values<any>(nest.projects).map((p) => p.root)];
    expect(needed.filter((path) => !covered(path))).toEqual([]);
    expect(dockerfile.stages.flatMap((s) => s.instructions).some((i) => i.keyword === 'RUN' && /npm run build/.test(i.args))).toBe(true);
  });

  it('starts the file that npm start runs, and ships the seeds and the live page assets it reads', () => {
    const start = JSON.parse(read('package.json')).scripts.start as string;
    const main = /node (\S+main\.js)/.exec(start)![1];
    const cmd = dockerfile.final.find((i) => i.keyword === 'CMD')!.args;
    expect(JSON.parse(cmd)).toEqual(['node', main]);
    const copies = dockerfile.final.filter((i) => i.keyword === 'COPY').map((i) => copySources(i.args));
    expect(copies.some((c) => c.from !== undefined && c.sources.includes('/app/dist'))).toBe(true);
    expect(copies.some((c) => c.sources.some((source) => /^(\/app\/|\.\/)?seeds\/?$/.test(source)))).toBe(true);
    expect(dockerfile.env.SEED_DIR ?? '/app/seeds').toBe('/app/seeds');
    // nest-cli.json copies the live page's assets into dist: the image needs them at start.
    const assets = JSON.parse(read('nest-cli.json')).compilerOptions.assets;
    expect(assets.map((a: any) => a.include)).toEqual(expect.arrayContaining(['live/page/*.js', 'live/page/*.css']));
  });

  it('does not send local state or secrets to the build', () => {
    const ignored = dockerignored();
    for (const path of ['node_modules', 'apps/x/node_modules', 'dist', 'data', '.git', '.env', 'events.sqlite', 'data/read-model.sqlite-wal']) {
      expect([path, ignored(path)]).toEqual([path, true]);
    }
  });
});
