import type { EntryView } from '../read-model/entry-view';
import { feedItem, type FeedLinks } from './feed-item';

const links: FeedLinks = { home: 'https://n.example/live', atom: 'https://n.example/a', json: 'https://n.example/j', entry: (id) => `https://n.example/live?entry=${id}` };

const meta = {
  entryId: '8a1c3e52-4f0b-4d7e-9c21-6b5e0f3a9d47',
  timeline: 'news',
  revision: 2,
  status: 'active',
  recordedAt: '2024-06-13T10:00:00.000Z',
  recordedBy: 'jane',
  updatedAt: '2024-06-15T09:00:00.000Z',
  position: '00000000000000000003',
  occurredOn: '2024-06',
  title: 'Trucks & drones',
  actors: ['JP', 'UA'],
  sources: [],
  tags: ['aid'],
  relatedTo: [],
} as const;

const delivery = {
  ...meta,
  kind: 'delivery',
  supplier: 'JP',
  recipient: 'UA',
  items: [{ category: 'vehicles', description: 'Trucks <heavy>', quantity: 100 }, { category: 'drones', description: 'Detection drones' }],
  value: { amount: 1000000, currency: 'JPY' },
  corrections: [
    { revision: 1, reason: 'first fix', fields: ['items'], correctedAt: '2024-06-14T09:00:00.000Z', correctedBy: 'jane' },
    { revision: 2, reason: 'second fix', fields: ['value', 'title'], correctedAt: '2024-06-15T09:00:00.000Z', correctedBy: 'jane' },
  ],
} as unknown as EntryView;

describe('feedItem', () => {
  it("gives a delivery's details, its corrections newest first, its dates and tags", () => {
    const item = feedItem(delivery, links);
    expect(item).toMatchObject({
      id: 'urn:uuid:8a1c3e52-4f0b-4d7e-9c21-6b5e0f3a9d47',
      url: 'https://n.example/live?entry=8a1c3e52-4f0b-4d7e-9c21-6b5e0f3a9d47',
      title: 'Trucks & drones',
      published: '2024-06-13T10:00:00.000Z',
      updated: '2024-06-15T09:00:00.000Z',
      tags: ['delivery', 'corrected', 'aid'],
    });
    expect(item.text.split('\n')).toEqual([
      'Corrected on 2024-06-15 (value, title): second fix',
      '',
      'Corrected on 2024-06-14 (items): first fix',
      '',
      'Date: 2024-06',
      'Actors: JP, UA',
      'Supplier: JP',
      'Recipient: UA',
      'Items: vehicles: Trucks <heavy> (100); drones: Detection drones',
      'Value: 1000000 JPY',
    ]);
    expect(item.html).toContain('<li>Items: vehicles: Trucks &lt;heavy&gt; (100); drones: Detection drones</li>');
  });

  it('marks a retraction in the title, the tags and first in the content, with its reason', () => {
    const retracted = { ...delivery, status: 'retracted', corrections: [], retraction: { reason: 'never <happened>', retractedAt: '2024-07-01T00:00:00.000Z', retractedBy: 'jane' } } as EntryView;
    const item = feedItem(retracted, links);
    expect(item.title).toBe('[Retracted] Trucks & drones');
    expect(item.tags).toEqual(['delivery', 'retracted', 'aid']);
    expect(item.text.split('\n')[0]).toBe('Retracted on 2024-07-01: never <happened>');
    expect(item.html.split('\n')[0]).toBe('<p><strong>Retracted on 2024-07-01: never &lt;happened&gt;</strong></p>');
  });
});
