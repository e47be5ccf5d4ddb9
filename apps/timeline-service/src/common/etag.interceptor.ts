import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { createHash } from 'node:crypto';
import { map, type Observable } from 'rxjs';
import { etagOf } from './if-match';

/** A weak tag of a serialized body's bytes: equal bytes, equal tag. */
export const etagOfBytes = (body: string): string => `W/"${createHash('sha1').update(body).digest('base64url')}"`;

/** What a document answer sends besides its ETag. */
export interface DocumentHeaders {
  /** An ISO-8601 instant: sent as Last-Modified, so If-Modified-Since is answered too. */
  lastModified?: string;
  cacheControl?: string;
}

/** A handler's answer with its entity tag, for ETagInterceptor to send: handlers never touch the response. */
export class Tagged<T = unknown> {
  private constructor(
    readonly body: T,
    readonly etag: string,
    /** Set for a body already serialized: Nest would send a string as text/html. */
    readonly contentType?: string,
    readonly headers: DocumentHeaders = {},
  ) {}

  /** An entry or a write's answer, tagged by the entry's revision: `"3"`, what If-Match takes. */
  static byRevision<T extends { revision: number }>(value: T): Tagged<T> {
    return new Tagged(value, etagOf(value.revision));
  }

  /** JSON serialized once (a cached page), with the tag of its bytes. */
  static json(text: string, etag: string): Tagged<string> {
    return new Tagged(text, etag, 'application/json');
  }

  /** A document serialized once (a feed) with the tag of its bytes (etagOfBytes), its content type and caching headers. */
  static document(document: { body: string; etag: string }, contentType: string, headers: DocumentHeaders): Tagged<string> {
    return new Tagged(document.body, document.etag, contentType, headers);
  }
}

/**
 * Sends the ETag of every Tagged answer (and its Last-Modified and
 * Cache-Control, if any), and the answer's body. Set before Nest sends the
 * body, so that Express itself answers a GET whose If-None-Match matches, or
 * whose If-Modified-Since is not older than Last-Modified, with 304 Not
 * Modified (Express's `req.fresh`, the `fresh` package: If-None-Match wins
 * when both are sent). Conditional writes are If-Match: see if-match.ts.
 */
@Injectable()
export class ETagInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      map((answer: unknown) => {
        if (!(answer instanceof Tagged)) return answer;
        const response = context.switchToHttp().getResponse<Response>();
        response.setHeader('ETag', answer.etag);
        if (answer.contentType) response.type(answer.contentType);
        if (answer.headers.lastModified) response.setHeader('Last-Modified', new Date(answer.headers.lastModified).toUTCString());
        if (answer.headers.cacheControl) response.setHeader('Cache-Control', answer.headers.cacheControl);
        return answer.body;
      }),
    );
  }
}
