import { isOccurredOn } from '@timeline/domain';
import { Matches, ValidateBy, ValidateIf, type ValidationOptions } from 'class-validator';

export const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const ACTOR_ID = /^[A-Z][A-Z0-9_-]{0,31}$/;
export const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** Canonical lowercase UUID: stream names are case-sensitive, so one spelling per id. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const CURRENCY = /^[A-Z]{3}$/;

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
