import { Controller, Get, Inject, Logger, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Health as HealthReport, HealthProblem } from '@timeline/contracts';
import { Projector, TIMELINE_READ_MODEL, type TimelineReadModel } from '@timeline/projections';
import type { Response } from 'express';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { ApiJsonResponse } from '../openapi/decorators';
import { MonitoredEventStore } from './monitored-event-store';
import { LAG_CAP, ProjectionStatus, type ProjectionSnapshot } from './projection-status';

export { LAG_CAP } from './projection-status';

/**
 * GET /health: 200 {status, checkpoint, head, lag, deadLetters, store, problems}.
 *
 * It answers 200 when degraded too, on purpose. Degraded means one part is
 * down while the rest serves: the store refuses writes but queries keep being
 * answered from the read model; the projector retries; a poison event was set
 * aside. A 503 would make a load balancer or an orchestrator's readiness probe
 * take the instance out, and when the shared store is down that is every
 * instance: an outage of writes would become an outage of everything. So the
 * status code says "this instance answers", and the body says what is wrong:
 * alert on `status` (or on `problems`), route on the code. Only an instance
 * that cannot answer at all (not started, shutting down) fails the probe.
 *
 * Cheap enough to poll: the head is one indexed read; the store's condition is
 * what the last commands and queries met (see MonitoredEventStore), nothing is
 * written to find out; the lag is read only when the read model is behind.
 *
 * For orchestrators, with @nestjs/terminus's bodies:
 * - GET /health/live: 200 while the process answers (a liveness probe: restart when it fails).
 * - GET /health/ready: 200 when this instance can do its whole job, else 503
 *   `{status: 'error', info, error, details}` naming what is wrong: `store` (the
 *   event store cannot be read, or refused the last write or read: see
 *   MonitoredEventStore) and `projection` (the read model is more than
 *   READY_MAX_LAG events behind the log, or the lag cannot be known). Mind what
 *   the paragraph above says: when the store is shared, every instance fails
 *   readiness together; route on /health/ready only where taking them all out
 *   is what you want, and alert on /health either way.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  private readonly logger = new Logger('Health');
  /** The last readiness answer, to log changes (not every probe). */
  private wasReady: boolean | null = null;

  constructor(
    private readonly store: MonitoredEventStore,
    private readonly projector: Projector,
    @Inject(TIMELINE_READ_MODEL) private readonly readModel: TimelineReadModel,
    private readonly status: ProjectionStatus,
    private readonly checks: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The state of this instance' })
  @ApiJsonResponse(200, 'HealthReport', 'Answers 200 also when degraded.')
  async health(): Promise<HealthReport> {
    const storeProblems: HealthProblem[] = [];
    const { checkpoint, head, headError, lag } = await this.status.snapshot(LAG_CAP);
    // A StoreUnavailableError is also in the monitor's failures now; anything else (a timeout) only here.
    if (headError !== null && !this.store.currentFailures().some((f) => f.operation === 'read')) {
      storeProblems.push({ code: 'store_unavailable', message: `the event store cannot be read: ${headError}` });
    }

    for (const failure of this.store.currentFailures()) {
      const what = failure.operation === 'write' ? 'refused the last write' : 'failed the last read';
      const consequence = failure.operation === 'write' ? 'commands answer 503 until it takes writes again; queries are served from the read model' : 'queries of the log fail';
      storeProblems.push({
        code: 'store_unavailable',
        message: `the event store ${what} (${ago(failure.last)}; failing since ${failure.since.toISOString()}): ${failure.message}; ${consequence}`,
      });
    }
    const problems = [...storeProblems];

    if (this.projector.lastError !== null) {
      const since = this.projector.failingSince ? ` since ${this.projector.failingSince.toISOString()}` : '';
      problems.push({
        code: 'projection_stalled',
        message: `the projector cannot go past ${checkpoint ?? 'the start of the log'}${since}: ${messageOf(this.projector.lastError)}; it retries on its own, and queries show the read model as of the checkpoint`,
      });
    }

    const deadLetters = this.projector.deadLetters;
    if (deadLetters > 0) {
      const [first] = this.readModel.deadLetters({ limit: 1 });
      problems.push({
        code: 'dead_letters',
        message:
          `${deadLetters} event${deadLetters === 1 ? '' : 's'} could not be projected and ${deadLetters === 1 ? 'was' : 'were'} set aside as dead letters; ` +
          `the read model leaves ${deadLetters === 1 ? 'it' : 'them'} out` +
          (first ? `. First: ${first.type} at ${first.position} (${first.stream} revision ${first.revision}): ${first.error}` : ''),
      });
    }

    return {
      status: problems.length > 0 ? 'degraded' : 'ok',
      checkpoint,
      head,
      lag,
      deadLetters,
      store: storeProblems.length > 0 ? 'unavailable' : 'ok',
      problems,
    };
  }

  /** Liveness: the process is up and its event loop answers. Nothing else is checked, on purpose. */
  @Get('live')
  @ApiOperation({ summary: 'Liveness: 200 while the process answers' })
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.checks.check([]);
  }

  /** Readiness: the store answers and the read model is within READY_MAX_LAG events of the log; else 503. */
  @Get('ready')
  @ApiOperation({ summary: 'Readiness: 200 when the store answers and the read model is within READY_MAX_LAG events of the log, else 503' })
  @HealthCheck()
  async ready(@Res({ passthrough: true }) response: Response): Promise<HealthCheckResult | object> {
    // Counting one past the bound is enough to know it is exceeded.
    const snapshot = await this.status.snapshot(this.config.readyMaxLag + 1);
    try {
      const result = await this.checks.check([() => this.storeIndicator(snapshot), () => this.projectionIndicator(snapshot)]);
      this.noteReadiness(true, result);
      return result;
    } catch (error) {
      // Terminus's own body, not our error shape: probes and dashboards know it.
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const body = error.getResponse() as HealthCheckResult;
      this.noteReadiness(false, body);
      response.status(503);
      return body;
    }
  }

  private storeIndicator(snapshot: ProjectionSnapshot): HealthIndicatorResult<'store'> {
    const store = this.indicators.check('store');
    const failures = this.store.currentFailures().map((f) => `${f.operation === 'write' ? 'refused the last write' : 'failed the last read'}: ${f.message}`);
    if (snapshot.headError !== null) failures.unshift(`cannot be read: ${snapshot.headError}`);
    if (failures.length > 0) return store.down({ message: `the event store ${failures.join('; ')}` });
    return store.up();
  }

  private projectionIndicator(snapshot: ProjectionSnapshot): HealthIndicatorResult<'projection'> {
    const projection = this.indicators.check('projection');
    const { checkpoint, head, lag } = snapshot;
    const maxLag = this.config.readyMaxLag;
    if (lag === null) return projection.down({ checkpoint, head, lag, maxLag, message: 'the lag of the read model is unknown: the event store cannot be read' });
    if (lag > maxLag) {
      return projection.down({ checkpoint, head, lag, maxLag, message: `the read model is more than ${maxLag} events behind the log (READY_MAX_LAG)` });
    }
    return projection.up({ checkpoint, head, lag, maxLag });
  }

  private noteReadiness(ready: boolean, result: HealthCheckResult): void {
    if (ready === this.wasReady) return;
    const first = this.wasReady === null;
    this.wasReady = ready;
    if (ready && !first) this.logger.log('ready again');
    if (!ready) this.logger.warn(`not ready: ${JSON.stringify(result.error ?? {})}`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function ago(at: Date): string {
  const seconds = Math.max(0, Math.round((Date.now() - at.getTime()) / 1000));
  return `${seconds} s ago`;
}
