import { Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import type { Request } from 'express';
import { ACCESS, type Access, type AuthenticatedRequest } from './access';

/**
 * @nestjs/throttler on writes only: queries and the live page are not
 * limited here. A client is its API key when it has one (several editors
 * behind one newsroom proxy share an address), its address otherwise.
 */
@Injectable()
export class WriteThrottlerGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const rule = this.reflector.getAllAndOverride<Access | ((r: Request) => Access) | undefined>(ACCESS, [
      context.getHandler(),
      context.getClass(),
    ]);
    return rule !== 'write';
  }

  protected override async getTracker(raw: Record<string, unknown>): Promise<string> {
    const request = raw as unknown as AuthenticatedRequest;
    return request.principal ? `key:${request.principal.name}` : `ip:${request.ip ?? 'unknown'}`;
  }

  /** One budget for all writes of a client, not one per route (the library's default). */
  protected override generateKey(_context: ExecutionContext, tracker: string, name: string): string {
    return `${name}:${tracker}`;
  }

  protected override async getErrorMessage(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<string> {
    return `too many writes: at most ${detail.limit} per minute for this client; retry in ${Math.ceil(detail.timeToBlockExpire / 1000) || 1} s`;
  }
}
