import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { configFrom, validateEnvironment, type AppConfig } from './app-config';

/** What ConfigService holds: the AppConfig under `app` (config.get('app', { infer: true }), config.get('app.port', { infer: true })). */
export interface ConfigShape {
  app: AppConfig;
}

export type AppConfigService = ConfigService<ConfigShape, true>;

/**
 * The service's configuration through @nestjs/config. The environment is read
 * and validated once, at the edge (configFromEnvironment in main.ts; loadConfig
 * in tests, the CLI and benchmarks), with the one Environment schema; the app
 * gets the resulting AppConfig, as ConfigService (`app`) and as APP_CONFIG
 * (StoreModule). Inside the app nothing reads process.env.
 */
@Module({})
export class AppConfigModule {
  static forRoot(config: AppConfig): Promise<DynamicModule> {
    return ConfigModule.forRoot({
      isGlobal: true,
      ignoreEnvFile: true,
      ignoreEnvVars: true,
      skipProcessEnv: true,
      load: [() => ({ app: config }) satisfies ConfigShape],
    });
  }
}

/**
 * The process's configuration: ConfigModule reads process.env and validates it
 * with validateEnvironment (the Environment schema), before Nest starts, so that
 * a wrong PORT, a malformed EVENTSTORE_CONNECTION_STRING or an unknown LOG_LEVEL
 * ends start-up with InvalidConfigError naming the variable (main.ts prints its
 * message and exits 1), not with a stack trace from inside Nest.
 */
export async function configFromEnvironment(): Promise<AppConfig> {
  let config: AppConfig | undefined;
  await ConfigModule.forRoot({
    ignoreEnvFile: true,
    validate: (env) => {
      config = configFrom(validateEnvironment(env));
      // Nothing to write back to process.env: the app gets the AppConfig.
      return {};
    },
  });
  return config!;
}
