export * from './domain.errors';
export * from './occurred-on';
export * from './streams';
export * from './timeline/timeline';
export * from './entry/entry.types';
export * from './entry/entry.events';
export * from './entry/entry';
export { applyChanges } from './entry/entry-changes';
