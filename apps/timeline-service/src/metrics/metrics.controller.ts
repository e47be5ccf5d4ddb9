import { Controller, Get, Header, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { AppMetrics } from './app-metrics';
import { MetricsAccessGuard } from './metrics-access.guard';

/** GET /metrics: Prometheus text exposition format (see MetricsModule for the list). */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: AppMetrics) {}

  @Get()
  @UseGuards(MetricsAccessGuard)
  @Header('Cache-Control', 'no-store')
  async scrape(@Res({ passthrough: true }) response: Response): Promise<string> {
    const text = await this.metrics.text();
    response.setHeader('Content-Type', this.metrics.contentType);
    return text;
  }
}
