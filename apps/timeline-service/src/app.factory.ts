import type { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import type { RequestHandler } from 'express';
import { Logger as PinoLogger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module';
import { LiveIoAdapter } from './live/live-io.adapter';
import { DomainErrorFilter } from './common/domain-error.filter';
import { ETagInterceptor } from './common/etag.interceptor';
import { rejectPrototypeKeys } from './common/json-body';
import { requestValidationPipe } from './common/request-validation';
import type { AppConfig } from './config/app-config';
import { HTTP_LOGGER, pinoLevelFor } from './logging/logging.module';
import { HttpMetrics } from './metrics/http-metrics';
import { setupOpenApi } from './openapi';

export interface AppOptions {
  /** Nest's levels: ['error'] logs errors only, false nothing; unset: LOG_LEVEL (see logging/). */
  logger?: LogLevel[] | false;
  /** Where log lines go instead of stdout (tests read them). */
  logDestination?: DestinationStream;
}

/** Builds the whole service; main.ts listens on it, e2e tests listen on a random port. */
export async function createApp(config: AppConfig, options: AppOptions = {}): Promise<NestExpressApplication> {
  const level = options.logger === undefined ? config.logLevel : pinoLevelFor(options.logger);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config, { logging: { level, destination: options.logDestination } }), {
    bodyParser: false,
    bufferLogs: true, // until Nest's logs go through pino, just below
  });
  app.useLogger(app.get(PinoLogger));
  // First of all: the request id (x-request-id), the request's log line and logger, its duration metric.
  app.use(app.get<RequestHandler>(HTTP_LOGGER), app.get(HttpMetrics).middleware);
  app.use(helmet());
  // Browsers on other origins (a newsroom's CMS) only where configured; none by default.
  if (config.corsOrigins === '*' || config.corsOrigins.length > 0) {
    app.enableCors({
      origin: config.corsOrigins,
      allowedHeaders: ['authorization', 'content-type', 'if-match', 'x-correlation-id', 'x-request-id'],
      exposedHeaders: ['etag', 'retry-after', 'x-request-id'],
    });
  }
  app.useWebSocketAdapter(new LiveIoAdapter(app, config.corsOrigins));
  app.useBodyParser('json', { limit: '256kb', reviver: rejectPrototypeKeys });
  app.useGlobalPipes(requestValidationPipe());
  app.useGlobalFilters(new DomainErrorFilter());
  app.useGlobalInterceptors(new ETagInterceptor()); // the ETag of every answer a handler returns as Tagged
  setupOpenApi(app, config); // Swagger UI at /docs, OpenAPI at /docs-json
  return app;
}
