import type { Socket } from 'socket.io';
import type { AppConfig } from '../config/app-config';
import type { ApiKeyRegistry, Principal } from './api-keys';

/**
 * socket.io handshake check for /live: the token comes in `auth.token` (or an
 * Authorization header from non-browser clients). A wrong token is refused
 * always; no token is refused only when reads are not public. The client sees
 * a connect_error whose message says which.
 */
export function socketAuth(keys: ApiKeyRegistry, config: Pick<AppConfig, 'publicReads'>) {
  return (socket: Socket, next: (error?: Error) => void): void => {
    const fromAuth = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    const header = socket.handshake.headers.authorization;
    const token = typeof fromAuth === 'string' ? fromAuth : typeof header === 'string' ? header.replace(/^Bearer /, '') : undefined;
    if (token !== undefined) {
      const principal = keys.identify(token);
      if (!principal) return next(new Error('unauthorized: auth.token is not a valid API key'));
      (socket.data as { principal?: Principal }).principal = principal;
    } else if (!keys.open && !config.publicReads) {
      return next(new Error('unauthorized: reads are not public; send a reader key in auth.token'));
    }
    next();
  };
}

export const principalOf = (socket: Socket): Principal | undefined => (socket.data as { principal?: Principal }).principal;
