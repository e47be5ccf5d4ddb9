import { Injectable, type PipeTransform } from '@nestjs/common';
import { SLUG, UUID } from './validators';
import { RequestValidationError } from './request-validation';

/** Path parameters are input too: a malformed one is a 400 naming it, not a lookup that finds nothing. */
@Injectable()
export class SlugParam implements PipeTransform<string, string> {
  transform(value: string): string {
    if (value.length <= 64 && SLUG.test(value)) return value;
    throw new RequestValidationError([{ field: 'slug', problems: ['slug must be lowercase-kebab, at most 64 characters'] }]);
  }
}

@Injectable()
export class EntryIdParam implements PipeTransform<string, string> {
  transform(value: string): string {
    if (UUID.test(value)) return value;
    throw new RequestValidationError([{ field: 'id', problems: ['id must be a lowercase UUID'] }]);
  }
}
