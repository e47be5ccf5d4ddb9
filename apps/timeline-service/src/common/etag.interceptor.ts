import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { map, type Observable } from 'rxjs';
import { etagOf } from './if-match';

/** A handler's answer with its entity tag, for ETagInterceptor to send: handlers never touch the response. */
export class Tagged<T = unknown> {
  private constructor(
    readonly body: T,
    readonly etag: string,
    /** Set for a body already serialized: Nest would send a string as text/html. */
    readonly contentType?: string,
  ) {}

  /** An entry or a write's answer, tagged by the entry's revision: `"3"`, what If-Match takes. */
  static byRevision<T extends { revision: number }>(value: T): Tagged<T> {
    return new Tagged(value, etagOf(value.revision));
  }

  /** JSON serialized once (a cached page), with the tag of its bytes. */
  static json(text: string, etag: string): Tagged<string> {
    return new Tagged(text, etag, 'application/json');
  }
}

/**
 * Sends the ETag of every Tagged answer, and the answer's body. Set before Nest
 * sends the body, so that Express itself answers a GET whose If-None-Match
 * matches with 304 Not Modified (conditional writes are If-Match: see if-match.ts).
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
        return answer.body;
      }),
    );
  }
}
