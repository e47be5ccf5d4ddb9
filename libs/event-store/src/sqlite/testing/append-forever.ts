/**
 * Child process for the durability test: appends with many concurrent writers
 * and prints each event id once its append was acknowledged, until killed.
 */
import { randomUUID } from 'node:crypto';
import { SqliteEventStore } from '../sqlite-event-store';

const store = new SqliteEventStore(process.argv[2]);
const writers = Number(process.argv[3] ?? 16);

async function writer(): Promise<never> {
  for (;;) {
    const id = randomUUID();
    await store.append(`entry-${id}`, [{ id, type: 'Probe', data: { id }, metadata: { recordedBy: 'durability', correlationId: id, causationId: null, schemaVersion: 1 } }], 'no-stream');
    process.stdout.write(`${id}\n`);
  }
}

for (let i = 0; i < writers; i++) void writer();
