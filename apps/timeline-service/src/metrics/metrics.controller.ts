import { Controller, Get, Header, Res, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiTextResponse } from '../openapi/decorators';
import { AppMetrics } from './app-metrics';
import { MetricsAccessGuard } from './metrics-access.guard';

/** GET /metrics: Prometheus text exposition format (see MetricsModule for the list). */
@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: AppMetrics) {}

  @Get()
  @ApiOperation({ summary: 'Prometheus metrics' })
  @ApiTextResponse(200, 'The Prometheus text exposition format.', ['text/plain'])
  @UseGuards(MetricsAccessGuard)
  @Header('Cache-Control', 'no-store')
  async scrape(@Res({ passthrough: true }) response: Response): Promise<string> {
    const text = await this.metrics.text();
    response.setHeader('Content-Type', this.metrics.contentType);
    return text;
  }
}
