/**
 * The wire types of the timeline service: what its HTTP API and its /live
 * feed send and accept, as JSON (Entry, Timeline, pages, commands, audit,
 * errors, live packets). They live in @timeline/contracts, generated from the
 * service's OpenAPI and AsyncAPI documents, where the server declares its own
 * answers with them too; the client hands them on as they are.
 *
 * Types only: `export type` leaves nothing in the compiled JavaScript, so the
 * browser copy (build-browser.ts) imports nothing but the client's own files.
 */
export type * from '@timeline/contracts';
