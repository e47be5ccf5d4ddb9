// Generated from libs/client/src/index.ts by libs/client/build-browser.ts: do not edit; run
// node -r @swc-node/register libs/client/build-browser.ts
/**
 * @timeline/client: the timeline service's HTTP API and live feed, typed.
 * Runs in Node 20+ and in browsers; its only dependency is socket.io-client.
 */
export * from './types.js';
export { TimelineApiError, isErrorBody } from './errors.js';
export { TimelineClient, } from './http-client.js';
export { LiveFeed, LiveFeedError, openLiveSocket, } from './live-client.js';
