import { Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { EmbedFramingMiddleware } from './embed-framing.middleware';
import { LiveFanout } from './live-fanout';
import { EMBED_ROUTE, LivePageController } from './live-page.controller';
import { LiveGateway } from './live.gateway';
import { SseController } from './sse.controller';
import { SseStreams } from './sse-streams';

@Module({ providers: [LiveFanout, LiveGateway, SseStreams], controllers: [LivePageController, SseController], exports: [LiveGateway, SseStreams] })
export class LiveModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(EmbedFramingMiddleware).forRoutes({ path: EMBED_ROUTE, method: RequestMethod.GET });
  }
}
