import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { ACCESS, ForbiddenRoleError, permits, UnauthenticatedError, type Access, type AuthenticatedRequest } from './access';
import { ApiKeyRegistry } from './api-keys';
import { bearerToken } from './bearer-token';

/**
 * Every HTTP request passes here. A presented token must be a key of ours
 * (401 otherwise, even where none is needed: a wrong key is worth knowing
 * about); then the route's access decides. The live feed checks its
 * handshake in LiveGateway, with the same registry.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeyRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = bearerToken(request.headers.authorization);
    if (token !== null) {
      const principal = this.keys.identify(token);
      if (!principal) throw new UnauthenticatedError('the bearer token is not a valid API key');
      request.principal = principal;
    }
    const rule = this.reflector.getAllAndOverride<Access | ((r: Request) => Access) | undefined>(ACCESS, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (rule === undefined || this.keys.open) return true;
    const access = typeof rule === 'function' ? rule(request) : rule;
    if (access === 'read' && this.config.publicReads) return true;
    if (!request.principal) throw new UnauthenticatedError(`this route needs a bearer token (Authorization: Bearer <api key>) with access to ${access}`);
    if (!permits(request.principal.role, access)) throw new ForbiddenRoleError(request.principal, access);
    return true;
  }
}
