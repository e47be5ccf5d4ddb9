import { LRUCache } from 'lru-cache';
import { etagOfBytes } from '../common/etag.interceptor';

/** A response body serialized once, with the entity tag of its bytes. */
export interface CachedPage {
  body: string;
  etag: string;
}

/**
 * Serialized entry pages (and feeds: feeds.controller.ts), valid while the read model stands still.
 *
 * A page is a pure function of its query and the read model's checkpoint:
 * the read model changes only when the projector moves the checkpoint. So a
 * page is cached under its query and served until the checkpoint moves, and
 * then the whole cache is dropped, as every page may have changed. Newsroom
 * pages poll the same few queries far more often than editors record, which
 * is what makes this pay: a hit skips SQL, JSON parsing and serialization.
 *
 * The ETag is a hash of the bytes: a poller's If-None-Match gets a 304 until
 * its page, whose `position` says how fresh it is, changes.
 */
export class PageCache<T = unknown> {
  private readonly pages: LRUCache<string, CachedPage>;
  private checkpoint: string | null | undefined = undefined;

  constructor(
    maxPages = 1000,
    /** How a rendered page becomes its bytes: JSON by default; a feed renders its own text. */
    private readonly serialize: (rendered: T) => string = JSON.stringify,
  ) {
    this.pages = new LRUCache({ max: maxPages });
  }

  /** The cached page for `key` at `checkpoint`, or `render()` serialized and cached. */
  get(key: string, checkpoint: string | null, render: () => T): CachedPage {
    if (checkpoint !== this.checkpoint) {
      this.pages.clear();
      this.checkpoint = checkpoint;
    }
    let page = this.pages.get(key);
    if (!page) {
      const body = this.serialize(render());
      page = { body, etag: etagOfBytes(body) };
      this.pages.set(key, page);
    }
    return page;
  }
}
