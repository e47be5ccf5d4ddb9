import { ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { payloadProblem } from './json-body';

export interface FieldProblem {
  /** Path of the offending field, e.g. `items.0.description` or `changes.title`. */
  field: string;
  problems: string[];
}

/** A request that failed validation; nothing was appended. Mapped to 400 by DomainErrorFilter. */
export class RequestValidationError extends Error {
  override readonly name = 'RequestValidationError';
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

/** The global pipe: whitelist, forbid unknown fields, transform, and our error shape. */
class RequestValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // An array would be validated key by key ("0 should not exist"): say what is really wrong.
    // Only where a DTO class is expected; socket payloads are checked by their handlers.
    const expectsDto = typeof metadata.metatype === 'function' && metadata.metatype !== Object;
    if (metadata.type === 'body' && expectsDto && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      throw notAnObject();
    }
    if (expectsDto) assertPayloadShape(value, metadata.type === 'body' ? 'body' : 'query');
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
