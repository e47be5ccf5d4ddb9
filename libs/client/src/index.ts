/**
 * @timeline/client: the timeline service's HTTP API and live feed, typed.
 * Runs in Node 20+ and in browsers; its only dependency is socket.io-client (the SSE feed needs only fetch).
 */
export * from './types';
export { TimelineApiError, isErrorBody } from './errors';
export {
  TimelineClient,
  type ApiResponse,
  type CorrectEntry,
  type EntrySnapshot,
  type RequestOptions,
  type RetractEntry,
  type TimelineClientOptions,
} from './http-client';
export {
  LiveFeed,
  LiveFeedError,
  openLiveSocket,
  type ConnectionState,
  type LiveConnectionOptions,
  type LiveFeedOptions,
  type LiveHandlers,
  type LiveSocketOptions,
  type Subscription,
} from './live-client';
export { openFeed, SseFeed, SseParser, type FeedOptions, type TimelineFeed } from './sse-feed';
