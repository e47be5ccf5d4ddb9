import { ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import type { FieldProblem } from '@timeline/contracts';
import { payloadProblem } from './json-body';

/** A request that failed validation; nothing was appended. Answered from the error table (common/error-table.ts). */
export class RequestValidationError extends Error {
  override readonly name = 'RequestValidationError';
  readonly code = 'invalid';
  constructor(readonly problems: FieldProblem[]) {
    super(problems.flatMap((p) => p.problems).join('; '));
  }
}

const OPTIONS = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true } as const;

export function flattenValidationErrors(errors: ValidationError[], prefix = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => withPath(message, error.property, field));
    const nested = flattenValidationErrors(error.children ?? [], field);
    return own.length > 0 ? [{ field, problems: own }, ...nested] : nested;
  });
}

/** class-validator names the property; we name the whole path, so nested problems are unambiguous. */
function withPath(message: string, property: string, field: string): string {
  if (message.startsWith(`${property} `)) return `${field}${message.slice(property.length)}`;
  if (message.startsWith(`property ${property} `)) return `${field}${message.slice(`property ${property}`.length)}`;
  if (message.startsWith('nested property')) return `${field} must be an object`;
  return `${field}: ${message}`;
}

/** Validates a plain value into a DTO instance, or throws RequestValidationError naming each field. */
export function validateInto<T extends object>(type: ClassConstructor<T>, plain: unknown, prefix = ''): T {
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
    if (!prefix) throw notAnObject();
    throw new RequestValidationError([{ field: prefix, problems: [`${prefix} must be a JSON object`] }]);
  }
  assertPayloadShape(plain, prefix || 'body');
  const instance = plainToInstance(type, plain);
  const errors = validateSync(instance, OPTIONS);
  if (errors.length > 0) throw new RequestValidationError(flattenValidationErrors(errors, prefix));
  return instance;
}

function assertPayloadShape(value: unknown, subject: string): void {
  const problem = payloadProblem(value, subject);
  if (problem) throw new RequestValidationError([{ field: problem.field, problems: [problem.problem] }]);
}

const notAnObject = () =>
  new RequestValidationError([{ field: 'body', problems: ['body must be a JSON object (content-type: application/json)'] }]);

/** The parts of an HTTP request that a DTO describes. Anything else Nest hands a pipe is not a request's. */
const REQUEST_PARTS: ReadonlySet<ArgumentMetadata['type']> = new Set(['body', 'query', 'param']);

/**
 * The global pipe: whitelist, forbid unknown fields, transform, and our error shape.
 *
 * It validates only a request DTO: the body, query or route params, typed with
 * one of our classes. Nest runs global pipes on every parameter of every handler,
 * socket handlers included, where the types are numeric (socket, payload, ack)
 * and the metatype is whatever the compiler emitted for a type (tsc: Function
 * for a function type or an interface it cannot see). Those are passed through
 * untouched: the live gateway validates its payloads itself, and a socket is
 * not input.
 */
class RequestValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (!REQUEST_PARTS.has(metadata.type)) return value;
    if (this.toValidate(metadata)) {
      // An array would be validated key by key ("0 should not exist"): say what is really wrong.
      if (metadata.type === 'body' && (value === null || typeof value !== 'object' || Array.isArray(value))) throw notAnObject();
      assertPayloadShape(value, metadata.type);
    }
    return super.transform(value, metadata);
  }
}

export function requestValidationPipe(): ValidationPipe {
  return new RequestValidationPipe({
    ...OPTIONS,
    transform: true,
    exceptionFactory: (errors) => new RequestValidationError(flattenValidationErrors(errors)),
  });
}
