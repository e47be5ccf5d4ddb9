import { isOccurredOn } from '@timeline/domain';
import { Matches, ValidateBy, ValidateIf, type ValidationOptions } from 'class-validator';

export const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const ACTOR_ID = /^[A-Z][A-Z0-9_-]{0,31}$/;
export const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** Canonical lowercase UUID: stream names are case-sensitive, so one spelling per id. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const CURRENCY = /^[A-Z]{3}$/;
/** A position as the API hands them out: the embedded store's, or KurrentDB's commit-prepare pair. */
export const POSITION = /^\d{20}(-\d{20})?$/;

export const IsOccurredOn = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isOccurredOn',
      validator: {
        validate: (value) => isOccurredOn(value),
        defaultMessage: (args) => `${args?.property} must be a real date written YYYY, YYYY-MM or YYYY-MM-DD`,
      },
    },
    options,
  );

export const IsSlug = () =>
  Matches(SLUG, { message: '$property must be lowercase-kebab, like japan-ukraine-support (a-z, 0-9 and single dashes)' });

export const IsActorId = (options: ValidationOptions = {}) =>
  Matches(ACTOR_ID, {
    message: options.each
      ? 'each of $property must be an actor id like JP, UA or NATO (capital letter, then A-Z 0-9 _ -, at most 32)'
      : '$property must be an actor id like JP, UA or NATO (capital letter, then A-Z 0-9 _ -, at most 32)',
    ...options,
  });

export const IsLowercaseUuid = (options: ValidationOptions = {}) =>
  Matches(UUID, { message: options.each ? 'each of $property must be a lowercase UUID' : '$property must be a lowercase UUID', ...options });

/** At least one non-space character: a title of spaces is no title. */
export const HasText = () => Matches(/\S/, { message: '$property must contain text, not only spaces' });

/**
 * Optional, but not nullable: an absent field is skipped, a null one is
 * validated (and refused). class-validator's IsOptional lets null through,
 * which would store nulls the domain's types do not allow. Corrections add
 * IsOptional on top (PartialType), where null means "remove this field".
 */
export const Optional = () => ValidateIf((_object, value) => value !== undefined);

/** An instant written in full with its offset (2024-06-13T14:05:00Z), so it names one moment. */
export const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
// Date.parse rolls 30 February over into March; the calendar check refuses it.
export const isInstant = (value: unknown): value is string =>
  typeof value === 'string' && INSTANT.test(value) && isOccurredOn(value.slice(0, 10)) && !Number.isNaN(Date.parse(value));

export const IsAsOf = () =>
  ValidateBy({
    name: 'isAsOf',
    validator: {
      validate: (value) => isInstant(value) || (typeof value === 'string' && POSITION.test(value)),
      defaultMessage: () => 'asOf must be an ISO-8601 instant with its offset (2024-06-13T14:05:00Z) or a position given by the API',
    },
  });
