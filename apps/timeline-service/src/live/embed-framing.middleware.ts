import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';

/**
 * frame-ancestors of the embed: the service itself, as everywhere (helmet's
 * default, 'self'), and the sites EMBED_ORIGINS names; '*' any site.
 */
export function embedFrameAncestors(origins: AppConfig['embedOrigins']): string[] {
  return origins === '*' ? ['*'] : ["'self'", ...origins];
}

/**
 * Lets the sites of EMBED_ORIGINS show the embed route in an <iframe>, and only
 * that route: app.factory's helmet() denies framing to every other origin on
 * every route, and this replaces its Content-Security-Policy here with helmet's
 * own defaults (scripts, styles and the socket.io connection from 'self', as the
 * live page has them) but for frame-ancestors. X-Frame-Options goes: it can name
 * no list of sites, and a browser that reads both obeys the stricter.
 */
@Injectable()
export class EmbedFramingMiddleware implements NestMiddleware {
  private readonly contentSecurityPolicy: RequestHandler;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.contentSecurityPolicy = helmet.contentSecurityPolicy({ directives: { frameAncestors: embedFrameAncestors(config.embedOrigins) } });
  }

  use(request: Request, response: Response, next: NextFunction): void {
    response.removeHeader('X-Frame-Options');
    this.contentSecurityPolicy(request, response, next);
  }
}
