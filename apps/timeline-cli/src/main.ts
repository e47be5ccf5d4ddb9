import 'reflect-metadata';
import { Command, CommanderError, Option } from 'commander';
import { exportCommand, EXPORT_FORMATS, EXPORT_HELP, type ExportOptions } from './commands/export.command';
import { importCommand, IMPORT_HELP } from './commands/import.command';
import { rebuildCommand, REBUILD_HELP } from './commands/rebuild.command';
import { seedCommand, SEED_HELP } from './commands/seed.command';
import { verifyCommand, VERIFY_HELP, type VerifyCommandOptions } from './commands/verify.command';
import { failure } from './failure';
import { EXIT, type ExitCode } from './runtime';

const ENVIRONMENT_HELP = `
Environment (the same as the service's):
  DATA_DIR                      the embedded event store (events.sqlite) and the read model (default ./data)
  READ_MODEL_FILE               the read model (default $DATA_DIR/read-model.sqlite)
  EVENTSTORE_CONNECTION_STRING  use KurrentDB instead of the embedded store, e.g. kurrentdb://localhost:2113?tls=false
  SEED_DIR                      the seed files (default ./seeds)

Exit status: 0 success; 1 a finding (verify found a problem, a rebuild digest
mismatch, a refused import); 2 a usage or configuration error.
Progress goes to stderr: a bar on a terminal, plain lines otherwise.`;

/** Runs a command and keeps its exit status; failures are mapped in one place (failure.ts). */
const run =
  <A extends unknown[]>(command: (...args: A) => Promise<ExitCode>) =>
  async (...args: A): Promise<void> => {
    process.exitCode = await command(...args);
  };

function program(): Command {
  const cli = new Command('timeline')
    .description('Maintenance commands for the timeline service: rebuild, verify, export, import, seed.')
    .addHelpText('after', ENVIRONMENT_HELP)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();

  cli
    .command('rebuild')
    .description('drop the read model and replay the whole log into it; compare digests before and after (stop the service first)')
    .addHelpText('after', REBUILD_HELP)
    .action(run(() => rebuildCommand()));

  cli
    .command('verify')
    .description("check every stream's hash chain, and the read model against a replay of the log")
    .option('--no-projection', 'check the hash chains only, not the read model')
    .addHelpText('after', VERIFY_HELP)
    .action(run((options: VerifyCommandOptions) => verifyCommand(options)));

  cli
    .command('export')
    .description('write the log as NDJSON, or one timeline as TimelineJS')
    .addOption(new Option('--format <format>', 'ndjson or timelinejs').choices(EXPORT_FORMATS).makeOptionMandatory())
    .option('--timeline <slug>', 'only this timeline (required for timelinejs)')
    .option('--out <file>', 'write to this file instead of stdout')
    .addHelpText('after', EXPORT_HELP)
    .action(run((options: ExportOptions) => exportCommand(options)));

  cli
    .command('import')
    .description('load an NDJSON export into an empty event store, verify it and rebuild the read model')
    .argument('<file>', 'an NDJSON file written by export --format ndjson')
    .addHelpText('after', IMPORT_HELP)
    .action(run((file: string) => importCommand(file)));

  cli
    .command('seed')
    .description('record seeds/*.json as npm start does on a first start (idempotent)')
    .addHelpText('after', SEED_HELP)
    .action(run(() => seedCommand()));

  return cli;
}

async function main(argv: string[]): Promise<void> {
  const cli = program();
  try {
    await cli.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has already printed the message (or the help); --help and --version are successes.
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    const { message, exitCode } = failure(error);
    process.stderr.write(`timeline: ${message}\n`);
    process.exitCode = exitCode;
  }
}

main(process.argv).finally(() => {
  // Everything is closed by now; a client library's idle handle must not keep the process alive.
  setTimeout(() => process.exit(), 2000).unref();
});
