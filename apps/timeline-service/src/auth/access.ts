import { SetMetadata } from '@nestjs/common';
import type { Request } from 'express';
import type { Principal, Role } from './api-keys';

/** What a route does, as far as access goes. */
export type Access = 'read' | 'write' | 'audit';

/** reader: queries and the live feed; editor: also writes; auditor: also history, as-of, the log, exports. */
const GRANTS: Record<Role, ReadonlySet<Access>> = {
  reader: new Set(['read']),
  editor: new Set(['read', 'write']),
  auditor: new Set(['read', 'audit']),
};

export const permits = (role: Role, access: Access): boolean => GRANTS[role].has(access);

export const ACCESS = Symbol('access');

/** Declares a route's access; a function decides from the request (asOf turns a query into an audit). */
export const Requires = (access: Access | ((request: Request) => Access)) => SetMetadata(ACCESS, access);

/** The request once the guard has looked at its token. */
export type AuthenticatedRequest = Request & { principal?: Principal };

/** 401: no token where one is needed, or a token that is no key of ours. */
export class UnauthenticatedError extends Error {
  override readonly name = 'UnauthenticatedError';
  readonly code = 'unauthorized';
}

/** 403: a valid key whose role does not allow this. */
export class ForbiddenRoleError extends Error {
  override readonly name = 'ForbiddenRoleError';
  readonly code = 'forbidden';
  constructor(readonly principal: Principal, readonly access: Access) {
    super(`key '${principal.name}' has role ${principal.role}, which may not ${access === 'read' ? 'read' : access === 'write' ? 'record or change entries' : 'use audit routes'}`);
  }
}
