import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from './app-config';

/** The service's AppConfig, as a provider: `@Inject(APP_CONFIG) config: AppConfig`. */
export const APP_CONFIG = Symbol('AppConfig');

/**
 * The one way the app reaches its configuration. The environment is read and
 * validated once, at the edge (loadConfig: in main.ts from process.env, in
 * tests, the CLI and benchmarks from their own), with the one Environment
 * schema; the app gets the resulting AppConfig as APP_CONFIG. Inside the app
 * nothing reads process.env.
 */
@Global()
@Module({})
export class AppConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
  }
}
