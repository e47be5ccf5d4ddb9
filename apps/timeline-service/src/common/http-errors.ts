/** The HTTP edge's own errors; each carries its code in the error table (error-table.ts). */

/** If-Match is required to change an entry (RFC 6585: 428 Precondition Required). */
export class PreconditionRequiredError extends Error {
  override readonly name = 'PreconditionRequiredError';
  readonly code = 'precondition_required';
  constructor(readonly header: string) {
    super(`${header} is required: send the entry's ETag (e.g. ${header}: "3") to say which revision you are changing`);
  }
}

/** A header whose value is malformed. */
export class InvalidHeaderError extends Error {
  override readonly name = 'InvalidHeaderError';
  readonly code = 'invalid';
  constructor(readonly header: string, readonly problem: string) {
    super(`header ${header} ${problem}`);
  }

  /** The field at fault, as an `invalid` answer names it. */
  get field(): string {
    return this.header;
  }
}
