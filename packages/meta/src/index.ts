export { LakeSoulError } from './errors.js';
export type { LakeSoulErrorKind, LakeSoulErrorContext, LakeSoulErrorOptions } from './errors.js';
export type * from './types.js';
