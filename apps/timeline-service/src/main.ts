import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.factory';
import { InvalidConfigError, loadConfig } from './config/app-config';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await createApp(config);
  await app.listen(config.port, config.host);
  new Logger('Main').log(`timeline service listening on http://${config.host}:${config.port}`);
}

main().catch((error: unknown) => {
  // A configuration error is the operator's to fix: say what, without a stack trace.
  if (error instanceof InvalidConfigError) console.error(error.message);
  else console.error(error);
  process.exit(1);
});
