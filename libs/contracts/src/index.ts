/**
 * @timeline/contracts: the HTTP API's and the /live feed's shapes as
 * TypeScript types, generated from the service's own OpenAPI and AsyncAPI
 * documents. Types only, no dependency: the server and @timeline/client both
 * import them (`import type`), so nothing of it exists at run time.
 */
export type * from './wire-types';
