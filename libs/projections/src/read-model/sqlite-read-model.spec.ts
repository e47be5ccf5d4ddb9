import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeReadModelContract } from '../testing/read-model.contract';
import { SqliteReadModel } from './sqlite-read-model';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'timeline-read-model-contract-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeReadModelContract('SQLite', () => new SqliteReadModel(join(dir, `${randomUUID()}.sqlite`)));
