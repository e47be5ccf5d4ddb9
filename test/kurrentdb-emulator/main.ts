/**
 * The emulator as its own process:
 *
 *   npm run kurrentdb-emulator -- --port 2113 [--data ./kurrentdb-emulator.jsonl]
 *
 * Prints the connection string to use on stdout (one line, nothing else, so a
 * parent process can read it), and what it is doing on stderr. `--port 0` picks
 * a free port. Stops cleanly on SIGTERM / SIGINT (exit code 0).
 */
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_SERVER_VERSION } from './server-features.service';
import { startKurrentDbEmulator, type KurrentDbEmulator } from './emulator';

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || parsed < min || parsed > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}.`);
    return parsed;
  };
}

interface CliOptions {
  port: number;
  host: string;
  data?: string;
  recentEventIds: number;
  serverVersion: string;
  trace?: boolean;
}

async function main(argv: readonly string[]): Promise<void> {
  const program = new Command()
    .name('kurrentdb-emulator')
    .description("An in-process stand-in for KurrentDB's gRPC API, for tests (no Docker, no .NET).")
    .option('--port <n>', 'TCP port to listen on; 0 picks a free one', integer('--port', 0, 65535), 2113)
    .option('--host <address>', 'interface to listen on', '127.0.0.1')
    .option('--data <path>', 'persist the log to this file (append-only, fsync per write) and reload it at start')
    .option('--recent-event-ids <n>', 'size of the cache behind idempotent retries with any/stream_exists', integer('--recent-event-ids', 1, 10_000_000), 256)
    .option('--server-version <version>', 'version reported by ServerFeatures', DEFAULT_SERVER_VERSION)
    .option('--trace', 'print every gRPC call received on stderr')
    .showHelpAfterError()
    .parse(argv);
  const options = program.opts<CliOptions>();

  const emulator: KurrentDbEmulator = await startKurrentDbEmulator({
    port: options.port,
    host: options.host,
    dataFile: options.data,
    recentEventIds: options.recentEventIds,
    serverVersion: options.serverVersion,
  });
  if (options.trace) emulator.faults.observe((method) => process.stderr.write(`${new Date().toISOString()} ${method}\n`));
  process.stdout.write(`${emulator.connectionString}\n`);
  process.stderr.write(
    `KurrentDB emulator listening on ${emulator.host}:${emulator.port} (reports ${options.serverVersion}); ` +
      `${options.data ? `log in ${options.data}` : 'log in memory only'}. Stop with Ctrl-C or SIGTERM.\n`,
  );

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${signal}: stopping the KurrentDB emulator\n`);
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`failed to stop cleanly: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main(process.argv).catch((error: unknown) => {
  process.stderr.write(`kurrentdb-emulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
