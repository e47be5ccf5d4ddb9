import { Controller, Get, Inject } from '@nestjs/common';
import type { EventStore } from '@timeline/event-store';
import { Projector } from '@timeline/projections';
import { EVENT_STORE } from '../store/store.tokens';

@Controller('health')
export class HealthController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore, private readonly projector: Projector) {}

  @Get()
  async health() {
    return {
      status: this.projector.lastError ? 'degraded' : 'ok',
      checkpoint: this.projector.checkpoint,
      head: await this.store.headPosition(),
    };
  }
}
