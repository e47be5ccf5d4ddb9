/**
 * GET /timelines/:slug/stream of the BUILT service (node dist/.../main.js as
 * its own process), read with plain fetch and eventsource-parser: live
 * messages (id = position, event = type, data = the update), and a reconnect
 * with Last-Event-ID that gets exactly what was missed, then live.
 */
import { announcement, apiAt } from './support/api';
import { startService, type RunningService } from './support/artifact';
import { POSITION } from './support/store';
import { closeAllSse, openSse } from '../support/sse-reader';

jest.setTimeout(30_000);

let service: RunningService;
const api = apiAt(() => service.url);

beforeAll(async () => {
  service = await startService({ env: { SEED_ON_START: 'false' } });
});
afterAll(async () => {
  closeAllSse();
  await service?.stop();
});

it('streams each change live, and resumes after Last-Event-ID with exactly what was missed', async () => {
  const slug = await api.openTimeline({ slug: 'sse-acceptance', title: 'SSE' });
  const url = `${service.url}/timelines/${slug}/stream`;
  const live = await openSse(url);
  expect(live.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const first = await api.record(slug, announcement({ title: 'First' }));
  const [message] = await live.waitForMessages(1, 10_000);
  expect(message).toMatchObject({ id: first.position, event: 'entry.recorded' });
  expect(message!.id).toMatch(POSITION);
  expect(JSON.parse(message!.data)).toMatchObject({ timeline: slug, position: first.position, type: 'entry.recorded', entry: { entryId: first.entryId, title: 'First' } });
  live.close();

  // Missed while disconnected: a record, a correction, a retraction.
  const second = await api.record(slug, announcement({ title: 'Second' }));
  const corrected = await api.correct(second.entryId, { title: 'Second, corrected' });
  const retracted = await api.retract(first.entryId);
  const resumed = await openSse(url, { 'Last-Event-ID': first.position });
  const after = await api.record(slug, announcement({ title: 'After' }));
  const messages = await resumed.waitForMessages(4, 10_000);
  expect(messages.map((m) => [m.id, m.event])).toEqual([
    [second.position, 'entry.recorded'],
    [corrected.position, 'entry.corrected'],
    [retracted.position, 'entry.retracted'],
    [after.position, 'entry.recorded'],
  ]);
  expect(JSON.parse(messages[1]!.data).entry.title).toBe('Second, corrected');
});
