import 'reflect-metadata';
import { ExecutionContextHost } from '@nestjs/core/internal';
import { lastValueFrom, of } from 'rxjs';
import { ETagInterceptor, etagOfBytes, Tagged } from './etag.interceptor';

function answered(answer: unknown) {
  const headers = new Map<string, string>();
  const response = { setHeader: (name: string, value: string) => headers.set(name, value), type: (type: string) => headers.set('Content-Type', type) };
  const context = new ExecutionContextHost([{}, response]);
  const body = lastValueFrom(new ETagInterceptor().intercept(context, { handle: () => of(answer) }));
  return { body, headers };
}

describe('ETagInterceptor', () => {
  it("sends an entry's revision as its ETag, and the entry as the body", async () => {
    const { body, headers } = answered(Tagged.byRevision({ entryId: 'e-1', revision: 3 }));
    expect(await body).toEqual({ entryId: 'e-1', revision: 3 });
    expect(Object.fromEntries(headers)).toEqual({ ETag: '"3"' });
  });

  it('sends JSON serialized once as JSON, with its own tag', async () => {
    const { body, headers } = answered(Tagged.json('{"items":[]}', 'W/"abc"'));
    expect(await body).toBe('{"items":[]}');
    expect(Object.fromEntries(headers)).toEqual({ ETag: 'W/"abc"', 'Content-Type': 'application/json' });
  });

  it('sends a document with the tag of its bytes, its type, Last-Modified as an HTTP date and Cache-Control', async () => {
    const { body, headers } = answered(Tagged.document({ body: '<feed/>', etag: etagOfBytes('<feed/>') }, 'application/atom+xml', { lastModified: '2024-06-13T14:05:00.250Z', cacheControl: 'public, max-age=60' }));
    expect(await body).toBe('<feed/>');
    expect(Object.fromEntries(headers)).toEqual({
      ETag: etagOfBytes('<feed/>'),
      'Content-Type': 'application/atom+xml',
      'Last-Modified': 'Thu, 13 Jun 2024 14:05:00 GMT',
      'Cache-Control': 'public, max-age=60',
    });
    expect(etagOfBytes('<feed/>')).toMatch(/^W\/"[\w-]+"$/);
    expect(etagOfBytes('<feed />')).not.toBe(etagOfBytes('<feed/>'));
  });

  it('leaves any other answer alone', async () => {
    const { body, headers } = answered({ slug: 'story' });
    expect(await body).toEqual({ slug: 'story' });
    expect(headers.size).toBe(0);
  });
});
