/** Stream names, as the store and every adapter see them. */
export const timelineStream = (slug: string): string => `timeline-${slug}`;
export const entryStream = (entryId: string): string => `entry-${entryId}`;

export const isTimelineStream = (stream: string): boolean => stream.startsWith('timeline-');
export const isEntryStream = (stream: string): boolean => stream.startsWith('entry-');
