import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { Server, ServerOptions } from 'socket.io';

/** socket.io with the same CORS origins as HTTP (gateway decorators cannot read configuration). */
export class LiveIoAdapter extends IoAdapter {
  constructor(app: INestApplicationContext, private readonly origins: '*' | string[]) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const cors = this.origins === '*' || this.origins.length > 0 ? { origin: this.origins } : undefined;
    return super.createIOServer(port, { ...options, ...(cors ? { cors } : {}) } as ServerOptions);
  }
}
