import type { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import { AppModule } from './app.module';
import { LiveIoAdapter } from './live/live-io.adapter';
import { DomainErrorFilter } from './common/domain-error.filter';
import { rejectPrototypeKeys } from './common/json-body';
import { requestValidationPipe } from './common/request-validation';
import type { AppConfig } from './config/app-config';

export interface AppOptions {
  logger?: LogLevel[] | false;
}

/** Builds the whole service; main.ts listens on it, e2e tests listen on a random port. */
export async function createApp(config: AppConfig, options: AppOptions = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), {
    bodyParser: false,
    logger: options.logger ?? ['log', 'warn', 'error'],
  });
  app.use(helmet());
  // Browsers on other origins (a newsroom's CMS) only where configured; none by default.
  if (config.corsOrigins === '*' || config.corsOrigins.length > 0) {
    app.enableCors({
      origin: config.corsOrigins,
      allowedHeaders: ['authorization', 'content-type', 'if-match', 'x-correlation-id'],
      exposedHeaders: ['etag', 'retry-after'],
    });
  }
  app.useWebSocketAdapter(new LiveIoAdapter(app, config.corsOrigins));
  app.useBodyParser('json', { limit: '256kb', reviver: rejectPrototypeKeys });
  app.useGlobalPipes(requestValidationPipe());
  app.useGlobalFilters(new DomainErrorFilter());
  return app;
}
