import { Logger, type INestApplicationContext } from '@nestjs/common';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { isObservable, type Observable } from 'rxjs';
import type { Server, ServerOptions, Socket } from 'socket.io';

/**
 * socket.io with the same CORS origins as HTTP (gateway decorators cannot read
 * configuration), and message handlers bound with one plain listener per event.
 *
 * IoAdapter binds each connection's handlers as rxjs pipelines (fromEvent,
 * mergeMap, takeUntil a shared disconnect stream): about 12 KB of closures and
 * subscribers held for every connection, as much again as socket.io itself
 * needs for it. Here a message is handled the same way (payload and ack taken
 * apart as IoAdapter does, the handler's result answered through the ack
 * unless the handler acks by itself, `{event, data}` results emitted, errors
 * logged rather than thrown), and only the listeners stay.
 */
export class LiveIoAdapter extends IoAdapter {
  private readonly log = new Logger('LiveIoAdapter');

  constructor(app: INestApplicationContext, private readonly origins: '*' | string[]) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const cors = this.origins === '*' || this.origins.length > 0 ? { origin: this.origins } : undefined;
    return super.createIOServer(port, { ...options, ...(cors ? { cors } : {}) } as ServerOptions);
  }

  override bindMessageHandlers(
    socket: Socket,
    handlers: MessageMappingProperties[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    for (const { message, callback, isAckHandledManually } of handlers) {
      socket.on(message as string, (...args: unknown[]) => {
        if (socket.disconnected) return;
        // What rxjs fromEvent hands IoAdapter: the argument, or all of them.
        const { data, ack } = this.mapPayload(args.length > 1 ? args : args[0]);
        const answer = (response: unknown) => {
          if (response === null || response === undefined || socket.disconnected) return;
          const { event, data: eventData } = response as { event?: string; data?: unknown };
          if (event) socket.emit(event, eventData);
          else if (!isAckHandledManually && typeof ack === 'function') (ack as (r: unknown) => void)(response);
        };
        const fail = (error: unknown) => this.log.error(error);
        try {
          const result = transform(callback(data, ack));
          if (isObservable(result)) result.subscribe({ next: answer, error: fail });
          else answer(result);
        } catch (error) {
          fail(error);
        }
      });
    }
  }
}
