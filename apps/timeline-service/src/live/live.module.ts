import { Module } from '@nestjs/common';
import { LivePageController } from './live-page.controller';
import { LiveGateway } from './live.gateway';

@Module({ providers: [LiveGateway], controllers: [LivePageController], exports: [LiveGateway] })
export class LiveModule {}
