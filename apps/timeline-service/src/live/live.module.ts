import { Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { EmbedFramingMiddleware } from './embed-framing.middleware';
import { EMBED_ROUTE, LivePageController } from './live-page.controller';
import { LiveGateway } from './live.gateway';

@Module({ providers: [LiveGateway], controllers: [LivePageController], exports: [LiveGateway] })
export class LiveModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(EmbedFramingMiddleware).forRoutes({ path: EMBED_ROUTE, method: RequestMethod.GET });
  }
}
