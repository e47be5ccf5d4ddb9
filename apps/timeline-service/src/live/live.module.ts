import { Module } from '@nestjs/common';
import { LiveFanout } from './live-fanout';
import { LivePageController } from './live-page.controller';
import { LiveGateway } from './live.gateway';
import { SseController } from './sse.controller';
import { SseStreams } from './sse-streams';

@Module({ providers: [LiveFanout, LiveGateway, SseStreams], controllers: [LivePageController, SseController], exports: [LiveGateway, SseStreams] })
export class LiveModule {}
