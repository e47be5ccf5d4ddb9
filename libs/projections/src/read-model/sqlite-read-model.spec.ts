import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite } from '@timeline/event-store';
import { describeReadModelContract } from '../testing/read-model.contract';
import { generateLog } from '../testing/sample-log';
import { SqliteReadModel } from './sqlite-read-model';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'timeline-read-model-contract-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeReadModelContract('SQLite', () => new SqliteReadModel(join(dir, `${randomUUID()}.sqlite`)));

describe('SqliteReadModel digest', () => {
  it('covers the search index itself: an index that lost an entry differs, though every table is the same', () => {
    const file = join(dir, `${randomUUID()}.sqlite`);
    const model = new SqliteReadModel(file);
    model.project(generateLog(20));
    const before = model.digest();
    const other = openSqlite(file);
    other.exec(`INSERT INTO entries_fts (entries_fts, rowid, title, summary, details)
                SELECT 'delete', id, title, summary, details FROM entries_search LIMIT 1`);
    other.close();
    expect(model.digest()).not.toBe(before);
    model.close();
  });
});
