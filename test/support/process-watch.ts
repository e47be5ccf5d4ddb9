/**
 * Watches the real Node process for unhandled rejections and uncaught
 * exceptions while an in-process service is under test.
 *
 * Inside a Jest test `process` is a copy made for the test's VM context:
 * listeners added to it never hear the real process's events. The real one is
 * the global of Node's main context, which vm.runInThisContext evaluates in.
 */
import { runInThisContext } from 'node:vm';

export interface ProcessWatch {
  /** Everything that fired since start(), as printable lines. */
  readonly problems: string[];
  stop(): void;
}

export function realProcess(): NodeJS.Process {
  try {
    const real = runInThisContext('process') as NodeJS.Process;
    if (real && typeof real.on === 'function') return real;
  } catch {
    // fall back to the test's own copy
  }
  return process;
}

export function watchProcess(): ProcessWatch {
  const real = realProcess();
  const problems: string[] = [];
  const describe = (value: unknown) => (value instanceof Error ? (value.stack ?? value.message) : String(value));
  const onRejection = (reason: unknown) => problems.push(`unhandledRejection: ${describe(reason)}`);
  const onException = (error: unknown) => problems.push(`uncaughtException: ${describe(error)}`);
  real.on('unhandledRejection', onRejection);
  real.on('uncaughtException', onException);
  return {
    problems,
    stop() {
      real.off('unhandledRejection', onRejection);
      real.off('uncaughtException', onException);
    },
  };
}
