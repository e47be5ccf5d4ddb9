import { Global, Module, type DynamicModule, type LogLevel } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import pino, { type DestinationStream, type Logger as PinoInstance, type LoggerOptions } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';
import pretty from 'pino-pretty';
import type { LogFormat, LogLevelName } from '../config/app-config';
import { correlationIdForLogs, REQUEST_ID_HEADER, requestIdOf } from './request-ids';

/** The app's pino-http middleware: request ids, one line per request, the request's logger for everything logged while it runs. */
export const HTTP_LOGGER = Symbol('HttpLogger');
/** The app's own pino logger (the root of the request loggers). */
export const ROOT_LOGGER = Symbol('RootLogger');

export interface LoggingOptions {
  level: LogLevelName;
  format: LogFormat;
  /** Where the lines go; stdout by default. Tests pass a stream to read them. */
  destination?: DestinationStream;
}

/** Paths whose requests are not logged line by line: probes and scrapes, every few seconds. */
const QUIET_PATHS = /^\/(health(\/(live|ready))?|metrics)\/?(\?|$)/;

/**
 * The pino level that lets through what Nest's `logger` option asks for
 * (createApp(config, { logger: ['error'] }) in tests and benchmarks): the most
 * verbose level listed; `false` or an empty list log nothing.
 */
export function pinoLevelFor(levels: LogLevel[] | false): LogLevelName {
  if (levels === false) return 'silent';
  const order: [LogLevel, LogLevelName][] = [
    ['verbose', 'trace'],
    ['debug', 'debug'],
    ['log', 'info'],
    ['warn', 'warn'],
    ['error', 'error'],
    ['fatal', 'fatal'],
  ];
  return order.find(([nest]) => levels.includes(nest))?.[1] ?? 'silent';
}

/** The app's pino logger: JSON lines (level as a word, ISO time), or pino-pretty for a person at a terminal. */
export function createRootLogger({ level, format, destination }: LoggingOptions): PinoInstance {
  const options: LoggerOptions = {
    level,
    base: { service: 'timeline-service', pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Keys never reach a log line, whatever gets logged.
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'], censor: '[redacted]' },
    ...(format === 'json' ? { formatters: { level: (label: string) => ({ level: label }) } } : {}),
  };
  // pino-pretty as a stream in this thread (not a transport's worker thread): synchronous, so nothing is lost on exit.
  const stream =
    destination ??
    (format === 'pretty'
      ? pretty({
          sync: true,
          colorize: process.stdout.isTTY === true,
          translateTime: 'SYS:HH:MM:ss.l',
          // One line per event, as a person reads a terminal: "[Context] message", other fields after it.
          messageFormat: '{if context}[{context}] {end}{msg}',
          singleLine: true,
          ignore: 'pid,hostname,service,req,res,context,responseTime',
        })
      : pino.destination({ fd: 1, sync: true }));
  return pino(options, stream);
}

/** The URL as the client sent it: Express rewrites req.url inside mounted routers, and keeps the original. */
function urlOf(req: IncomingMessage): string | undefined {
  return (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url;
}

/**
 * pino-http over the app's logger. Every request gets an id (a valid
 * x-request-id it came with, else a UUID), echoed in the response's
 * x-request-id; its log lines carry reqId and correlationId (a valid
 * x-correlation-id, else the request id); one line when it is answered, at
 * info, warn for 503 (the store is down: the body says why, /health too),
 * error for other 5xx.
 */
export function createHttpLogger(root: PinoInstance): HttpLogger<IncomingMessage, ServerResponse> {
  return pinoHttp({
    logger: root,
    genReqId: (req, res) => {
      const id = requestIdOf(req);
      res.setHeader('x-request-id', id);
      return id;
    },
    customProps: (req) => ({ reqId: (req as IncomingMessage & { id?: unknown }).id, correlationId: correlationIdForLogs(req) }),
    customLogLevel: (_req, res, error) => {
      if (res.statusCode === 503) return 'warn';
      if (error || res.statusCode >= 500) return 'error';
      return 'info';
    },
    customSuccessMessage: (req, res, ms) => `${req.method} ${urlOf(req)} ${res.statusCode} ${ms} ms`,
    customErrorMessage: (req, res, error) => `${req.method} ${urlOf(req)} ${res.statusCode}: ${error.message}`,
    autoLogging: { ignore: (req) => QUIET_PATHS.test(req.url ?? '') },
    // Enough to find the request; headers (keys, cookies) and bodies stay out of the logs.
    // The serializers take Node's own request and response (wrapSerializers: false):
    // pino-http serializes the request when it makes each request's logger, and the
    // wrapped serializers first copied every header and the query of every request.
    wrapSerializers: false,
    serializers: {
      req: (req: IncomingMessage) => ({ method: req.method, url: urlOf(req), remoteAddress: req.socket?.remoteAddress }),
      res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
    },
  });
}

/**
 * Structured logs with nestjs-pino. The app owns its pino logger and its
 * pino-http middleware (createApp mounts HTTP_LOGGER first, before helmet), and
 * nestjs-pino (useExisting) binds each request's logger, so that Nest's own
 * logs (app.useLogger(app.get(Logger))) made while a request runs carry its
 * reqId and correlationId.
 *
 * One caveat, from Nest and nestjs-pino rather than from us: Nest's Logger is
 * process-wide, and nestjs-pino keeps one logger for lines logged outside any
 * request, the first one built. With several apps in one process (tests) those
 * lines go to the first app's logger; request lines always go to their own app's.
 */
@Global()
@Module({})
export class LoggingModule {
  static forRoot(options: LoggingOptions): DynamicModule {
    const root = createRootLogger(options);
    return {
      module: LoggingModule,
      imports: [LoggerModule.forRoot({ pinoHttp: { logger: root }, useExisting: true })],
      providers: [
        { provide: ROOT_LOGGER, useValue: root },
        { provide: HTTP_LOGGER, useValue: createHttpLogger(root) },
      ],
      exports: [ROOT_LOGGER, HTTP_LOGGER, LoggerModule],
    };
  }
}

export { REQUEST_ID_HEADER };
