/**
 * docs/asyncapi.yaml, the live feed's protocol, checked so that it cannot
 * silently drift from the code:
 *
 * 1. the official AsyncAPI parser (@asyncapi/parser) finds no error in it;
 * 2. its messages, ack error codes and reasons, update types, resync reasons
 *    and patterns are the ones the source code uses (read from the gateway's
 *    source, the error table and the exported validators, not copied here);
 * 3. its example payloads pass the service's own DTO validation, and its
 *    payload schemas agree with the DTOs on valid and invalid payloads;
 * 4. what the real service sends over a real socket.io connection (acks,
 *    updates of every type, shutdown) validates against its schemas;
 * 5. the schemas it shares with the code (the entry, the subscribe payloads, the
 *    atoms) are what apps/timeline-service/src/openapi/asyncapi-schemas.ts
 *    generates from the code today.
 */
import 'reflect-metadata';
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { getMetadataStorage } from 'class-validator';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { detailsOf, type EntryView } from '@timeline/projections';
import { ACTOR_ID, KEBAB, POSITION, SLUG, UUID } from '../apps/timeline-service/src/common/validators';
import { RequestValidationError, validateInto } from '../apps/timeline-service/src/common/request-validation';
import { MAX_MESSAGE_BYTES, SubscribeMessage, UnsubscribeMessage } from '../apps/timeline-service/src/live/dto/live-messages.dto';
import { ERROR_TABLE } from '../apps/timeline-service/src/common/error-table';
import { LIVE_CODES } from '../apps/timeline-service/src/live/live-exception.filter';
import { RECORD_DTO_OF_KIND } from '../apps/timeline-service/src/entries/dto/record-entry.dto';
import { asyncApiDocument } from '../apps/timeline-service/src/openapi/asyncapi-schemas';
import { startService, type RunningService } from './support/service';
import { apiAt, openTimeline, recordEntry, signing } from './support/http';
import { closeAllLive, connectLive, record, subscribe, unsubscribe } from './support/live-client';

/* eslint-disable @typescript-eslint/no-explicit-any */

jest.setTimeout(30_000);

const ROOT = join(__dirname, '..');
const DOC_FILE = join(ROOT, 'docs/asyncapi.yaml');
const LIVE_DIR = join(ROOT, 'apps/timeline-service/src/live');
const source = (file: string) => readFileSync(file, 'utf8');

const raw: any = parseYaml(source(DOC_FILE));

let dereferenced: any;
let diagnostics: Awaited<ReturnType<Parser['parse']>>['diagnostics'];

beforeAll(async () => {
  const parsed = await new Parser().parse(source(DOC_FILE));
  diagnostics = parsed.diagnostics;
  dereferenced = parsed.document?.json();
});

/** A validator for one of the doc's schemas or message payloads, with every $ref resolved by the parser. */
function validatorFor(schema: unknown): ValidateFunction {
  // The parser adds x-parser-* annotations; strict mode would refuse them as unknown keywords.
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema as object);
}
const payloadOf = (message: string) => dereferenced.components.messages[message].payload;
const schemaOf = (name: string) => dereferenced.components.schemas[name];

function expectValid(validate: ValidateFunction, value: unknown, what: string): void {
  const ok = validate(value);
  if (!ok) throw new Error(`${what} does not match docs/asyncapi.yaml: ${JSON.stringify(validate.errors, null, 2)}\n${JSON.stringify(value)}`);
}

/** Whether the gateway's own validation (the DTO, through validateInto as LiveGateway.parse does) accepts it. */
function dtoAccepts(type: new () => object, payload: unknown): boolean {
  try {
    validateInto(type, payload, '');
    return true;
  } catch (error) {
    if (error instanceof RequestValidationError) return false;
    throw error;
  }
}

const sorted = (values: Iterable<string>) => [...values].sort();

describe('docs/asyncapi.yaml is a valid AsyncAPI 3 document', () => {
  it('declares AsyncAPI 3.0.0', () => {
    expect(raw.asyncapi).toBe('3.0.0');
  });

  it('has no errors, and no warnings but the hint that 3.1.0 exists', () => {
    const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    expect(errors.map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`)).toEqual([]);
    const warnings = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Warning);
    expect(warnings.map((d) => d.code).filter((code) => code !== 'asyncapi-latest-version')).toEqual([]);
    expect(dereferenced).toBeDefined();
  });

  it('puts the live feed on the /live namespace', () => {
    expect(raw.channels.live.address).toBe('/live');
    expect(source(join(LIVE_DIR, 'live.gateway.ts'))).toMatch(/@WebSocketGateway\(\{\s*namespace:\s*'\/live'/);
  });
});

describe('docs/asyncapi.yaml takes its shared schemas from the code', () => {
  it('is what asyncapi-schemas.ts makes of the validators, the DTOs and the HTTP document today (run: node -r @swc-node/register apps/timeline-service/src/openapi/asyncapi-schemas.ts)', () => {
    const text = source(DOC_FILE);
    expect(asyncApiDocument(text)).toBe(text);
    expect(raw.components.schemas.Entry.properties.pledge.$ref).toBe('#/components/schemas/MoneyDto'); // the HTTP document's own
  });
});

describe('docs/asyncapi.yaml says what the code does', () => {
  const gateway = source(join(LIVE_DIR, 'live.gateway.ts'));
  const senders = gateway + source(join(LIVE_DIR, 'live-session.ts'));

  // The gateway imports @SubscribeMessage as OnMessage (the DTO has that name); accept both.
  const handled = sorted(new Set([...gateway.matchAll(/@(?:OnMessage|SubscribeMessage)\('([^']+)'\)/g)].map((m) => m[1])));
  // Sent with socket.emit('name', ...), or encoded once with socket.io's encoder ({type: EVENT, nsp, data: ['name', ...]}).
  const emitted = sorted(new Set([...senders.matchAll(/\.emit\('([^']+)'|\bdata: \['([^']+)'/g)].map((m) => m[1] ?? m[2])));

  const operations = Object.values(raw.operations) as any[];
  const messageName = (ref: string) => raw.components.messages[ref.split('/').pop()!].name as string;
  const namesOf = (action: string) =>
    sorted(operations.filter((o) => o.action === action).flatMap((o) => o.messages.map((m: any) => messageName(m.$ref))));

  it('finds the events in the source (the patterns below still match it)', () => {
    expect(handled).toEqual(['subscribe', 'unsubscribe']);
    expect(emitted).toEqual(['resync', 'shutdown', 'update', 'updates']);
  });

  it('receives exactly the events the gateway handles', () => {
    expect(namesOf('receive')).toEqual(handled);
  });

  it('sends exactly the events the server emits', () => {
    expect(namesOf('send')).toEqual(emitted);
  });

  it("has on the /live channel exactly those events, each message named as its socket.io event", () => {
    const channelMessages = raw.channels.live.messages as Record<string, { $ref: string }>;
    expect(sorted(Object.values(channelMessages).map((m) => messageName(m.$ref)))).toEqual(sorted([...handled, ...emitted]));
    for (const [key, ref] of Object.entries(channelMessages)) expect(messageName(ref.$ref)).toBe(key);
  });

  it('answers every client event with an ack (a reply), and no server event', () => {
    for (const operation of operations) {
      if (operation.action === 'receive') expect(operation.reply?.messages?.length).toBe(1);
      else expect(operation.reply).toBeUndefined();
    }
  });

  it('lists the ack error codes of the gateway', () => {
    expect(sorted(raw.components.schemas.AckError.properties.error.properties.code.enum)).toEqual(sorted(LIVE_CODES));
  });

  it("lists as reasons the error table's codes, and the resume's resync_required", () => {
    // The gateway's one refusal of its own, the resume's outcome (not an error), is sent as the outcome's code.
    expect(gateway).toMatch(/error: \{ code: outcome\.code, reason: outcome\.code,/);
    const reasons = raw.components.schemas.AckError.properties.error.properties.reason.enum;
    expect(sorted(reasons)).toEqual(sorted([...Object.keys(ERROR_TABLE), 'resync_required']));
  });

  it('lists the update types of the projection', () => {
    // The projection's EntryChange is the document's own update type (@timeline/contracts), so the
    // compiler holds every type it returns to the document's list; here, the list holds no other.
    const projection = source(join(ROOT, 'libs/projections/src/read-model/timeline.projection.ts'));
    const types = sorted(new Set([...projection.matchAll(/return \{[^}]*\btype: '([a-z.]+)'/g)].map((m) => m[1])));
    expect(types.length).toBeGreaterThan(0);
    expect(sorted(raw.components.schemas.UpdatePayload.properties.type.enum)).toEqual(types);
  });

  it('lists the resync reasons the server sends', () => {
    const subscriptions = source(join(LIVE_DIR, 'live-subscriptions.ts'));
    const reasons = sorted(new Set([...subscriptions.matchAll(/\.resync\([^,]+,\s*'([a-z_]+)'\)/g)].map((m) => m[1])));
    expect(reasons.length).toBeGreaterThan(0);
    expect(sorted(raw.components.schemas.ResyncPayload.properties.reason.enum)).toEqual(reasons);
  });

  it('uses the validators’ patterns and limits', () => {
    const { schemas } = raw.components;
    expect(schemas.Slug.pattern).toBe(SLUG.source);
    expect(schemas.Position.pattern).toBe(POSITION.source);
    expect(schemas.ActorId.pattern).toBe(ACTOR_ID.source);
    expect(schemas.EntryId.pattern).toBe(UUID.source);
    expect(schemas.Entry.properties.tags.items.pattern).toBe(KEBAB.source);
    expect(schemas.SubscribePayload['x-max-bytes']).toBe(MAX_MESSAGE_BYTES);
    expect(schemas.UnsubscribePayload['x-max-bytes']).toBe(MAX_MESSAGE_BYTES);
  });

  describe.each([
    ['SubscribePayload', SubscribeMessage],
    ['UnsubscribePayload', UnsubscribeMessage],
  ] as const)('%s and its DTO', (schemaName, dto) => {
    const metadata = getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);
    const properties = sorted(new Set(metadata.map((m) => m.propertyName)));
    const optional = sorted(new Set(metadata.filter((m) => m.type === 'conditionalValidation' || m.type === 'isOptional').map((m) => m.propertyName)));
    const schema = () => raw.components.schemas[schemaName];

    it('have the same fields, the same required ones, and refuse unknown fields alike', () => {
      expect(sorted(Object.keys(schema().properties))).toEqual(properties);
      expect(sorted(schema().required)).toEqual(properties.filter((p) => !optional.includes(p)));
      expect(schema().additionalProperties).toBe(false);
    });

    it('have the same length limits on the slug', () => {
      const length = metadata.find((m) => m.propertyName === 'timeline' && m.name === 'isLength');
      expect(length?.constraints).toEqual([raw.components.schemas.Slug.minLength, raw.components.schemas.Slug.maxLength]);
    });
  });
});

describe("docs/asyncapi.yaml's examples and schemas agree with the service's validation", () => {
  const examplesOf = (message: string) => (raw.components.messages[message].examples ?? []) as Array<{ name: string; payload: any }>;

  it.each(Object.keys(raw.components.messages))('every example of %s matches its own payload schema', (message) => {
    const examples = examplesOf(message);
    expect(examples.length).toBeGreaterThan(0);
    const validate = validatorFor(payloadOf(message));
    for (const example of examples) expectValid(validate, example.payload, `example ${message}/${example.name}`);
  });

  it.each([
    ['subscribe', SubscribeMessage],
    ['unsubscribe', UnsubscribeMessage],
  ] as const)('every example of %s passes the live DTO', (message, dto) => {
    for (const example of examplesOf(message)) {
      expect(() => validateInto(dto, example.payload, '')).not.toThrow();
      expect(Buffer.byteLength(JSON.stringify(example.payload))).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    }
  });

  it("every example update's entry is a valid recording of its kind, in updates too", () => {
    const updates = [
      ...examplesOf('update').map((example) => example.payload),
      ...examplesOf('updates').flatMap((example) => {
        const positions = example.payload.updates.map((u: any) => u.position);
        expect(positions).toEqual([...positions].sort());
        expect(example.payload.updates.every((u: any) => u.timeline === example.payload.timeline)).toBe(true);
        return example.payload.updates;
      }),
    ];
    expect(updates.length).toBeGreaterThan(2);
    for (const update of updates) {
      const entry = update.entry as EntryView;
      expect(update.timeline).toBe(entry.timeline);
      expect(update.position).toBe(entry.position);
      const details = { ...detailsOf(entry), entryId: entry.entryId };
      expect(() => validateInto(RECORD_DTO_OF_KIND[entry.kind] as new () => object, details)).not.toThrow();
    }
  });

  // The same verdict from the doc's schema and from the gateway's DTO.
  const samples: Array<[string, unknown]> = [
    ['a slug', { timeline: 'japan-ukraine-support' }],
    ['a slug and a position', { timeline: 'a', after: '00000000000000000000' }],
    ['a KurrentDB position', { timeline: 'a-1', after: '00000000000000000007-00000000000000000007' }],
    ['no timeline', {}],
    ['an unknown field', { timeline: 'a', from: '00000000000000000001' }],
    ['capitals in the slug', { timeline: 'Japan' }],
    ['a double dash', { timeline: 'a--b' }],
    ['a trailing dash', { timeline: 'a-' }],
    ['an empty slug', { timeline: '' }],
    ['a slug of 65 characters', { timeline: 'a'.repeat(65) }],
    ['a slug of 64 characters', { timeline: 'a'.repeat(64) }],
    ['a number for the slug', { timeline: 42 }],
    ['a short position', { timeline: 'a', after: '42' }],
    ['a numeric position', { timeline: 'a', after: 42 }],
    ['a null position', { timeline: 'a', after: null }],
    ['a position with a newline', { timeline: 'a', after: '00000000000000000001\n' }],
    ['batch true', { timeline: 'a', after: '00000000000000000000', batch: true }],
    ['batch false', { timeline: 'a', after: '00000000000000000000', batch: false }],
    ['batch without after', { timeline: 'a', batch: true }],
    ['a string as batch', { timeline: 'a', after: '00000000000000000000', batch: 'true' }],
    ['a number as batch', { timeline: 'a', batch: 1 }],
    ['a null batch', { timeline: 'a', batch: null }],
  ];

  it.each(samples)('subscribe with %s: the schema and the DTO give the same verdict', (_what, payload) => {
    const schemaSays = validatorFor(payloadOf('subscribe'))(payload);
    expect(schemaSays).toBe(dtoAccepts(SubscribeMessage, payload));
  });

  it.each(samples)('unsubscribe with %s: the schema and the DTO give the same verdict', (_what, payload) => {
    const schemaSays = validatorFor(payloadOf('unsubscribe'))(payload);
    expect(schemaSays).toBe(dtoAccepts(UnsubscribeMessage, payload));
  });

  it('refuses with its schemas what the service would refuse', () => {
    // Guards the comparison above against a validator that accepts everything.
    expect(validatorFor(payloadOf('subscribe'))({ timeline: 'Not A Slug' })).toBe(false);
    expect(validatorFor(payloadOf('update'))({ timeline: 'a', position: '1', type: 'entry.recorded', entry: {} })).toBe(false);
    expect(validatorFor(payloadOf('updates'))({ timeline: 'a', updates: [] })).toBe(false);
    expect(validatorFor(payloadOf('updates'))({ timeline: 'a', updates: [{ timeline: 'a', position: '1', type: 'entry.recorded', entry: {} }] })).toBe(false);
    expect(validatorFor(payloadOf('subscribeAck'))({ ok: false, error: { code: 'nope', message: 'x' } })).toBe(false);
  });
});

describe('what the real service sends matches docs/asyncapi.yaml', () => {
  let service: RunningService | undefined;
  afterEach(() => closeAllLive());
  afterAll(async () => {
    closeAllLive();
    await service?.stop();
  });

  it('acks, updates of every type, batched updates, and shutdown', async () => {
    service = await startService();
    const api = apiAt(service.url);
    const slug = await openTimeline(api, 'asyncapi');
    const validate = {
      subscribeAck: validatorFor(payloadOf('subscribeAck')),
      unsubscribeAck: validatorFor(payloadOf('unsubscribeAck')),
      update: validatorFor(payloadOf('update')),
      updates: validatorFor(payloadOf('updates')),
      shutdown: validatorFor(payloadOf('shutdown')),
    };

    const socket = await connectLive(service.url);
    const updates = record<any>(socket, 'update');
    const shutdowns = record<any>(socket, 'shutdown');

    const ack = await subscribe(socket, { timeline: slug });
    expect(ack.ok).toBe(true);
    expectValid(validate.subscribeAck, ack, 'the ack of subscribe');

    for (const [what, reason, payload] of [
      ['not_found', 'timeline_not_found', { timeline: 'no-such-timeline' }],
      ['invalid', 'invalid', { timeline: 'Not A Slug' }],
      ['invalid', 'invalid', { timeline: slug, unexpected: true }],
    ] as const) {
      // (resync_required needs more than LIVE_MAX_REPLAY missed changes: see live-feed.e2e-spec.ts.)
      const refused = await subscribe(socket, payload);
      expect(refused).toMatchObject({ ok: false, error: { code: what, reason } });
      expectValid(validate.subscribeAck, refused, `the ack of a ${what} subscribe`);
    }

    const written = await recordEntry(api, slug, signing());
    const entryId = written.entryId;
    const corrected = await api.patch(`/entries/${entryId}`, { changes: { place: 'Apulia, Italy' }, reason: 'a second source' }, { 'If-Match': '"0"' });
    expect(corrected.status).toBe(200);
    const retracted = await api.post(`/entries/${entryId}/retraction`, { reason: 'recorded in the wrong timeline' });
    expect(retracted.status).toBe(200);

    const received = await updates.waitFor(3);
    expect(received.map((u) => u.type)).toEqual(['entry.recorded', 'entry.corrected', 'entry.retracted']);
    for (const update of received) expectValid(validate.update, update, `the ${update.type} update`);
    expect(received[2].entry).toMatchObject({ status: 'retracted', revision: 2 });

    // A resume replays from the change log: the same shape.
    const resumed = await connectLive(service.url);
    const replayed = record<any>(resumed, 'update');
    expectValid(validate.subscribeAck, await subscribe(resumed, { timeline: slug, after: '00000000000000000000' }), 'the ack of a resume');
    for (const update of await replayed.waitFor(3)) expectValid(validate.update, update, `the replayed ${update.type} update`);

    // A batched resume: the same updates in one `updates` message.
    const batched = await connectLive(service.url);
    const batches = record<any>(batched, 'updates');
    const batchAck = await subscribe(batched, { timeline: slug, after: '00000000000000000000', batch: true });
    expectValid(validate.subscribeAck, batchAck, 'the ack of a batched resume');
    const [batch] = await batches.waitFor(1);
    expectValid(validate.updates, batch, 'the updates message');
    expect(batch.updates).toEqual(replayed.items.slice(0, 3));

    const left = await unsubscribe(socket, { timeline: slug });
    expect(left).toEqual({ ok: true });
    expectValid(validate.unsubscribeAck, left, 'the ack of unsubscribe');
    const badLeave = await unsubscribe(socket, { timeline: 42 });
    expect(badLeave).toMatchObject({ ok: false, error: { code: 'invalid' } });
    expectValid(validate.unsubscribeAck, badLeave, 'the ack of an invalid unsubscribe');

    const stopping = service.stop();
    service = undefined;
    const [shutdown] = await shutdowns.waitFor(1);
    expectValid(validate.shutdown, shutdown, 'the shutdown event');
    await stopping;
  });
});
