// Generated from libs/client/src/types.ts by libs/client/build-browser.ts: do not edit; run
// node -r @swc-node/register libs/client/build-browser.ts
/**
 * The wire types of the timeline service: what its HTTP API and its /live
 * feed send and accept, as JSON.
 *
 * They are written out here rather than imported from @timeline/domain or
 * @timeline/projections so that a front end can bundle this library without
 * the server's code or its path aliases. test/client.e2e-spec.ts checks at
 * compile time that the server's own types (EntryView, TimelineView, ErrorBody,
 * HealthReport, ...) are assignable to these, so the two cannot drift apart
 * silently.
 */
export {};
