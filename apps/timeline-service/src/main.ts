import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.factory';
import { InvalidConfigError, loadConfig } from './config/app-config';

async function main(): Promise<void> {
  // process.env is read and validated (config/app-config.ts) before anything starts: a wrong value
  // ends start-up with InvalidConfigError naming the variable, not with a stack trace from inside Nest.
  const config = loadConfig(process.env);
  const app = await createApp(config);
  await app.listen(config.port, config.host);
  const logger = new Logger('Main');
  logger.log(`timeline service listening on http://${config.host}:${config.port}`);

  // Nest's own shutdown hooks re-raise the signal after closing, which makes the
  // exit look like a crash to supervisors. Close everything, then exit 0.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: closing`);
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(`shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  // A configuration error is the operator's to fix: say what, without a stack trace.
  if (error instanceof InvalidConfigError) process.stderr.write(`${error.message}\n`);
  else console.error(error);
  process.exit(1);
});
