import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ForbiddenRoleError, permits, UnauthenticatedError, type AuthenticatedRequest } from '../auth/access';
import { ApiKeyRegistry } from '../auth/api-keys';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';

/**
 * GET /metrics tells how busy the newsroom is and what fails: like the audit
 * routes, it needs an auditor key (a scraper sends it as a bearer token), unless
 * METRICS_PUBLIC=true (e.g. when only a private network reaches the port), or in
 * development mode (no keys). Runs after AccessGuard, which has refused a wrong
 * token and put the key's principal on the request.
 */
@Injectable()
export class MetricsAccessGuard implements CanActivate {
  constructor(
    private readonly keys: ApiKeyRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.config.metricsPublic || this.keys.open) return true;
    const { principal } = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!principal) {
      throw new UnauthenticatedError('GET /metrics needs a bearer token (Authorization: Bearer <api key>) with access to audit, unless METRICS_PUBLIC=true');
    }
    if (!permits(principal.role, 'audit')) throw new ForbiddenRoleError(principal, 'audit');
    return true;
  }
}
