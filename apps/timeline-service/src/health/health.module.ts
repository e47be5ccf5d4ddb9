import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { ProjectionStatus } from './projection-status';

/** GET /health (the report), /health/live and /health/ready (terminus), and where the read model stands (for /metrics too). */
@Module({
  // Readiness changes are logged by HealthController, once per change, not on every failed probe.
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [ProjectionStatus],
  exports: [ProjectionStatus],
})
export class HealthModule {}
