import { io, type Socket } from 'socket.io-client';
import { startService, type RunningService } from './support/service';

/**
 * Who may do what: API keys by role, public or private reads, the socket
 * handshake, rate limits, and the headers every answer carries.
 */
const KEYS = {
  reader: 'reader-key-0123456789abcdef',
  editor: 'editor-key-0123456789abcdef',
  auditor: 'auditor-key-0123456789abcdef',
};
const API_KEYS = `desk:reader:${KEYS.reader},jane:editor:${KEYS.editor},audit-office:auditor:${KEYS.auditor}`;

type Key = keyof typeof KEYS | 'wrong' | null;

async function call(s: RunningService, method: string, path: string, key: Key, body?: unknown, headers: Record<string, string> = {}) {
  const auth: Record<string, string> =
    key === null ? {} : { authorization: `Bearer ${key === 'wrong' ? 'not-a-key-of-ours-000000' : KEYS[key]}` };
  const response = await fetch(`${s.url}${path}`, {
    method,
    headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const signing = (title: string) => ({
  kind: 'signing',
  occurredOn: '2024-06-13',
  title,
  actors: ['JP', 'UA'],
  parties: ['JP', 'UA'],
  instrument: 'Accord',
});

function connect(s: RunningService, token?: string): Promise<Socket> {
  const socket = io(`${s.url}/live`, { transports: ['websocket'], reconnection: false, auth: token ? { token } : {} });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

describe('with API keys and public reads', () => {
  let s: RunningService;
  let entryId: string;
  beforeAll(async () => {
    s = await startService({ API_KEYS });
    expect((await call(s, 'POST', '/timelines', 'editor', { slug: 'access', title: 'Access' })).status).toBe(201);
    entryId = (await call(s, 'POST', '/timelines/access/entries', 'editor', signing('First'))).body.entryId as string;
  });
  afterAll(() => s.stop());

  it('lets anyone read without a token', async () => {
    expect((await call(s, 'GET', '/timelines/access/entries', null)).status).toBe(200);
    expect((await call(s, 'GET', `/entries/${entryId}`, null)).status).toBe(200);
  });

  it('answers 401 to a write without a token, with WWW-Authenticate, and appends nothing', async () => {
    const head = (await call(s, 'GET', '/health', null)).body.head;
    const reply = await call(s, 'POST', '/timelines/access/entries', null, signing('Anonymous'));
    expect(reply.status).toBe(401);
    expect(reply.body.code).toBe('unauthorized');
    expect(reply.headers.get('www-authenticate')).toContain('Bearer');
    expect((await call(s, 'GET', '/health', null)).body.head).toBe(head);
  });

  it('answers 401 to a wrong token, even on a public read', async () => {
    expect((await call(s, 'POST', '/timelines/access/entries', 'wrong', signing('Wrong'))).status).toBe(401);
    expect((await call(s, 'GET', '/timelines', 'wrong')).status).toBe(401);
    expect((await call(s, 'GET', '/timelines', null, undefined, { authorization: 'Basic abc' })).status).toBe(401);
  });

  it('answers 403 to a role that may not: reader or auditor writing, reader or editor auditing', async () => {
    for (const key of ['reader', 'auditor'] as const) {
      const reply = await call(s, 'POST', '/timelines/access/entries', key, signing(`By ${key}`));
      expect(reply.status).toBe(403);
      expect(reply.body.code).toBe('forbidden');
    }
    for (const key of ['reader', 'editor'] as const) {
      expect((await call(s, 'GET', `/entries/${entryId}/history`, key)).status).toBe(403);
      expect((await call(s, 'GET', '/events', key)).status).toBe(403);
      expect((await call(s, 'GET', '/timelines/access/export?format=timelinejs', key)).status).toBe(403);
      expect((await call(s, 'GET', '/timelines/access/entries?asOf=2030-01-01T00:00:00Z', key)).status).toBe(403);
    }
  });

  it('lets an editor correct and retract, and an auditor read history, as-of, the log and exports', async () => {
    expect((await call(s, 'PATCH', `/entries/${entryId}`, 'editor', { changes: { title: 'First, corrected' }, reason: 'typo' }, { 'if-match': '"0"' })).status).toBe(200);
    expect((await call(s, 'GET', `/entries/${entryId}/history`, 'auditor')).status).toBe(200);
    expect((await call(s, 'GET', '/events?limit=5', 'auditor')).status).toBe(200);
    expect((await call(s, 'GET', '/timelines/access/export?format=timelinejs', 'auditor')).status).toBe(200);
    expect((await call(s, 'GET', '/timelines/access/entries?asOf=2030-01-01T00:00:00Z', 'auditor')).status).toBe(200);
  });

  it("records the key's name as recordedBy on every event it appends", async () => {
    const history = (await call(s, 'GET', `/entries/${entryId}/history`, 'auditor')).body.items as Array<{ recordedBy: string; metadata: { recordedBy: string } }>;
    expect(history.map((e) => e.recordedBy)).toEqual(['jane', 'jane']);
    expect(history.every((e) => e.metadata.recordedBy === 'jane')).toBe(true);
  });

  it('lets the live feed connect without a token, and refuses a wrong one at the handshake', async () => {
    const socket = await connect(s);
    expect((await socket.emitWithAck('subscribe', { timeline: 'access' })).ok).toBe(true);
    socket.close();
    await expect(connect(s, 'not-a-key-of-ours-000000')).rejects.toThrow(/unauthorized/);
  });

  it('sets the security headers helmet gives', async () => {
    const reply = await call(s, 'GET', '/timelines', null);
    expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
    expect(reply.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(reply.headers.get('x-powered-by')).toBeNull();
  });
});

describe('with private reads (PUBLIC_READS=false)', () => {
  let s: RunningService;
  beforeAll(async () => {
    s = await startService({ API_KEYS, PUBLIC_READS: 'false' });
  });
  afterAll(() => s.stop());

  it('needs a token to read, and any role may read', async () => {
    expect((await call(s, 'GET', '/timelines', null)).status).toBe(401);
    for (const key of ['reader', 'editor', 'auditor'] as const) expect((await call(s, 'GET', '/timelines', key)).status).toBe(200);
  });

  it('needs a token to search, as to read', async () => {
    expect((await call(s, 'GET', '/search?q=japan', null)).status).toBe(401);
    expect((await call(s, 'GET', '/search?q=japan', 'reader')).status).toBe(200);
  });

  it('checks the token in the socket.io handshake (auth.token)', async () => {
    await expect(connect(s)).rejects.toThrow(/reads are not public/);
    const socket = await connect(s, KEYS.reader);
    expect(socket.connected).toBe(true);
    socket.close();
  });

  it('keeps health and the live page shell public', async () => {
    expect((await call(s, 'GET', '/health', null)).status).toBe(200);
  });
});

describe('in development mode (no keys)', () => {
  let s: RunningService;
  beforeAll(async () => {
    s = await startService({});
  });
  afterAll(() => s.stop());

  it('allows everything and records writes as anonymous', async () => {
    expect((await call(s, 'POST', '/timelines', null, { slug: 'dev', title: 'Dev' })).status).toBe(201);
    const events = (await call(s, 'GET', '/events', null)).body.items as Array<{ metadata: { recordedBy: string } }>;
    expect(events.map((e) => e.metadata.recordedBy)).toEqual(['anonymous']);
  });
});

describe('rate limits', () => {
  let s: RunningService;
  beforeAll(async () => {
    s = await startService({ API_KEYS, RATE_LIMIT_WRITES_PER_MINUTE: '3', RATE_LIMIT_SUBSCRIBES_PER_MINUTE: '2' });
    expect((await call(s, 'POST', '/timelines', 'editor', { slug: 'limited', title: 'Limited' })).status).toBe(201);
  });
  afterAll(() => s.stop());

  it('answers 429 past the write limit, and leaves reads alone', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(s, 'POST', '/timelines/limited/entries', 'editor', signing(`Entry ${i}`))).status);
    expect(statuses).toEqual([201, 201, 429, 429]); // the timeline took the first of the 3
    const refused = await call(s, 'POST', '/timelines/limited/entries', 'editor', signing('Once more'));
    expect(refused.body).toMatchObject({ statusCode: 429, code: 'too_many_requests', message: expect.stringContaining('at most 3 per minute') });
    for (let i = 0; i < 10; i++) expect((await call(s, 'GET', '/timelines/limited/entries', null)).status).toBe(200);
  });

  it('refuses subscribes past their limit with an ok:false ack', async () => {
    const socket = await connect(s);
    const acks = [];
    for (let i = 0; i < 3; i++) acks.push(await socket.emitWithAck('subscribe', { timeline: 'limited' }));
    expect(acks.map((a: { ok: boolean }) => a.ok)).toEqual([true, true, false]);
    // HTTP answers too_many_requests (429) past its limit: the ack's reason is that code.
    expect(acks[2]).toMatchObject({ error: { code: 'rate_limited', reason: 'too_many_requests', message: expect.stringContaining('at most 2 per minute') } });
    expect(socket.connected).toBe(true);
    socket.close();
  });
});

describe('CORS', () => {
  let s: RunningService;
  beforeAll(async () => {
    s = await startService({ CORS_ORIGINS: 'https://newsroom.example' });
  });
  afterAll(() => s.stop());

  it('allows the configured origin and not another', async () => {
    const preflight = (origin: string) =>
      fetch(`${s.url}/timelines`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
    expect((await preflight('https://newsroom.example')).headers.get('access-control-allow-origin')).toBe('https://newsroom.example');
    expect((await preflight('https://elsewhere.example')).headers.get('access-control-allow-origin')).toBeNull();
  });
});
