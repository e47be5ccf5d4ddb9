/** A configuration the service cannot start with; the message names the variable. */
export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError';
}
