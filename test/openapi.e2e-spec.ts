/**
 * The API documentation: Swagger UI at /docs and OpenAPI 3 at /docs-json.
 *
 * The document must describe every route the app really registered, show the
 * validators' constraints in its schemas (they are derived from them), and its
 * examples and schemas must agree with the real API: each example body is sent
 * and each answer is checked against the documented schema. The UI page must
 * load its assets under helmet's CSP, and render in a real Chromium.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { SLUG } from '../apps/timeline-service/src/common/validators';
import { unmappedValidators } from '../apps/timeline-service/src/openapi';
import { CORRECT_EXAMPLES, EXAMPLE_SLUG, OPEN_TIMELINE_EXAMPLE, RECORD_EXAMPLES, RETRACT_EXAMPLE } from '../apps/timeline-service/src/openapi/response-schemas';
import { launchBrowser } from './support/browser';
import { startService, type RunningService } from './support/service';

jest.setTimeout(60_000);

/* eslint-disable @typescript-eslint/no-explicit-any */
type Doc = Record<string, any>;

const METHODS = ['get', 'post', 'patch', 'put', 'delete'] as const;

let service: RunningService;
let doc: Doc;
let ajv: Ajv;

beforeAll(async () => {
  service = await startService();
  const reply = await fetch(`${service.url}/docs-json`);
  expect(reply.status).toBe(200);
  expect(reply.headers.get('content-type')).toMatch(/application\/json/);
  doc = (await reply.json()) as Doc;
  ajv = new Ajv({ strict: false, allErrors: true, discriminator: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'doc', components: { schemas: toJsonSchema(doc.components.schemas) } });
});

afterAll(async () => {
  await service?.stop();
});

/** OpenAPI 3.0's schema dialect to the JSON Schema ajv checks: `exclusiveMinimum: true` becomes a number. */
function toJsonSchema(value: any): any {
  if (Array.isArray(value)) return value.map(toJsonSchema);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, any> = {};
  for (const [key, inner] of Object.entries(value)) out[key] = key === 'example' || key === 'examples' ? inner : toJsonSchema(inner);
  if (out.exclusiveMinimum === true) {
    out.exclusiveMinimum = out.minimum;
    delete out.minimum;
  }
  return out;
}

const validators = new Map<string, ValidateFunction>();
function expectSchema(name: string, value: unknown): void {
  let validate = validators.get(name);
  if (!validate) {
    validate = ajv.compile({ $ref: `doc#/components/schemas/${name}` });
    validators.set(name, validate);
  }
  const valid = validate(value);
  expect({ name, valid, errors: validate.errors ?? null }).toEqual({ name, valid: true, errors: null });
}

const schema = (name: string): Doc => doc.components.schemas[name];
const responseSchemaRef = (path: string, method: string, status: number): string =>
  doc.paths[path][method].responses[String(status)].content['application/json'].schema.$ref;

/** The routes Nest registered on Express: walk the router's stack. */
function registeredRoutes(): string[] {
  const express = service.app.getHttpAdapter().getInstance() as { router: { stack: any[] } };
  const routes = new Set<string>();
  for (const layer of express.router.stack) {
    if (!layer.route) continue;
    const path = String(layer.route.path).replace(/:(\w+)/g, '{$1}');
    for (const method of Object.keys(layer.route.methods)) routes.add(`${method.toUpperCase()} ${path}`);
  }
  // Not Swagger UI's own routes, nor Nest's catch-all 404 handler.
  return [...routes].filter((route) => !/ \/docs/.test(route) && !route.includes('{/*splat}')).sort();
}

describe('GET /docs-json', () => {
  it('is an OpenAPI 3 document', () => {
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(Object.keys(doc.paths).length).toBeGreaterThan(0);
    for (const [path, item] of Object.entries<Doc>(doc.paths)) {
      expect(path).toMatch(/^\//);
      for (const method of METHODS) {
        const operation = item[method];
        if (!operation) continue;
        expect({ path, method, operationId: operation.operationId, responses: Object.keys(operation.responses ?? {}).length > 0 }).toEqual({
          path,
          method,
          operationId: expect.any(String),
          responses: true,
        });
        // Every path parameter in the template is declared.
        const declared = (operation.parameters ?? []).filter((p: Doc) => p.in === 'path').map((p: Doc) => p.name).sort();
        const template = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
        expect({ path, method, declared }).toEqual({ path, method, declared: template });
      }
    }
    // Every $ref points at a schema that exists, and every schema compiles.
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]);
    expect([...new Set(refs)].filter((name) => !doc.components.schemas[name])).toEqual([]);
    for (const name of Object.keys(doc.components.schemas)) expect(() => ajv.compile({ $ref: `doc#/components/schemas/${name}` })).not.toThrow();
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'opaque API key' }); // not Nest's default "JWT"
  });

  it('documents every route the app registered, and no other', () => {
    const documented = Object.entries<Doc>(doc.paths)
      .flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const registered = registeredRoutes();
    expect(registered).toEqual(
      expect.arrayContaining([
        'GET /health',
        'POST /timelines',
        'GET /timelines',
        'GET /timelines/{slug}',
        'POST /timelines/{slug}/entries',
        'GET /timelines/{slug}/entries',
        'GET /entries/{id}',
        'PATCH /entries/{id}',
        'POST /entries/{id}/retraction',
        'GET /entries/{id}/history',
        'GET /events',
        'GET /timelines/{slug}/export',
        'GET /timelines/{slug}/live',
      ]),
    );
    expect(documented).toEqual(registered);
  });

  it('derives every request schema from the validators, leaving none unmapped', () => {
    expect(unmappedValidators).toEqual([]);
  });

  it('shows the validation constraints in the schemas', () => {
    const open = schema('OpenTimelineDto');
    expect(open.required).toEqual(expect.arrayContaining(['slug', 'title']));
    expect(open.additionalProperties).toBe(false);
    expect(open.properties.slug).toMatchObject({ type: 'string', pattern: SLUG.source, minLength: 1, maxLength: 64 });
    expect(open.properties.title).toMatchObject({ type: 'string', minLength: 1, maxLength: 200 });
    expect(open.properties.description).toMatchObject({ maxLength: 2000 });

    const signing = schema('RecordSigningDto');
    expect(signing.properties.kind).toMatchObject({ enum: ['signing'] });
    expect(signing.properties.termYears).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
    expect(signing.properties.parties).toMatchObject({ type: 'array', minItems: 2, maxItems: 20, uniqueItems: true, items: { pattern: expect.any(String) } });
    expect(signing.properties.occurredOn).toMatchObject({ type: 'string', pattern: expect.any(String) });
    expect(signing.properties.entryId).toMatchObject({ pattern: expect.stringContaining('[0-9a-f]{8}') });
    expect(signing.required).toEqual(expect.arrayContaining(['kind', 'occurredOn', 'title', 'actors', 'parties', 'instrument']));
    expect(signing.required).not.toContain('entryId');
    expect(signing.properties.sources).toMatchObject({ maxItems: 20, items: { $ref: '#/components/schemas/SourceDto' } });
    expect(schema('SourceDto').properties.url).toMatchObject({ format: 'uri', maxLength: 2000 });
    expect(schema('MoneyDto').properties.currency).toMatchObject({ pattern: '^[A-Z]{3}$' });
    expect(schema('RecordDeliveryDto').properties.items).toMatchObject({ minItems: 1, maxItems: 50 });
    expect(schema('RecordAnnouncementDto').properties.stage.enum).toEqual(expect.arrayContaining(['reported', 'announced', 'confirmed']));
    // A correction's changes may set an optional field to null.
    expect(schema('SigningChangesDto').properties.place).toMatchObject({ nullable: true, maxLength: 200 });
    expect(schema('SigningChangesDto').required).toBeUndefined();

    const record = doc.paths['/timelines/{slug}/entries'].post.requestBody.content['application/json'].schema;
    expect(record.discriminator).toMatchObject({ propertyName: 'kind', mapping: { announcement: expect.any(String), signing: expect.any(String), delivery: expect.any(String) } });
    expect(record.oneOf).toHaveLength(3);

    const query = Object.fromEntries(doc.paths['/timelines/{slug}/entries'].get.parameters.map((p: Doc) => [`${p.in}:${p.name}`, p]));
    expect(query['query:limit']).toMatchObject({ required: false, schema: { type: 'integer', minimum: 1, maximum: 500 } });
    expect(query['query:kind'].schema.enum).toEqual(['announcement', 'signing', 'delivery']);
    expect(query['query:order'].schema.enum).toEqual(['asc', 'desc']);
    expect(query['query:cursor'].schema).toMatchObject({ maxLength: 512 });
    expect(Object.keys(query)).toEqual(
      expect.arrayContaining(['path:slug', 'query:actor', 'query:from', 'query:to', 'query:includeRetracted', 'query:asOf', 'header:If-None-Match']),
    );
    const events = Object.fromEntries(doc.paths['/events'].get.parameters.map((p: Doc) => [p.name, p]));
    expect(events.limit.schema).toMatchObject({ minimum: 1, maximum: 1000 });
    expect(events.format.schema.enum).toEqual(['json', 'ndjson']);
    const exported = doc.paths['/timelines/{slug}/export'].get.parameters.find((p: Doc) => p.name === 'format');
    expect(exported).toMatchObject({ required: true, schema: { enum: ['timelinejs'] } });

    const correct = doc.paths['/entries/{id}'].patch.parameters.find((p: Doc) => p.name === 'If-Match');
    expect(correct).toMatchObject({ in: 'header', required: true });
    const retract = doc.paths['/entries/{id}/retraction'].post.parameters.find((p: Doc) => p.name === 'If-Match');
    expect(retract).toMatchObject({ in: 'header', required: false });
  });

  it('describes errors with the one error shape, and the bearer key where one is needed', () => {
    expect(schema('ErrorBody').required).toEqual(['statusCode', 'error', 'code', 'message']);
    expect(schema('ErrorBody').properties.errors.items.$ref).toBe('#/components/schemas/FieldProblem');
    for (const [path, item] of Object.entries<Doc>(doc.paths)) {
      for (const method of METHODS) {
        // Ours; /health/live|ready and /metrics answer in @nestjs/terminus's and Prometheus's shapes.
        if (!['timelines', 'entries', 'audit'].some((tag) => item[method]?.tags?.includes(tag))) continue;
        for (const [status, response] of Object.entries<Doc>(item[method]?.responses ?? {})) {
          if (Number(status) < 400 || !response.content?.['application/json']) continue;
          expect({ path, method, status, ref: response.content['application/json'].schema.$ref }).toEqual({
            path, method, status, ref: '#/components/schemas/ErrorBody',
          });
        }
      }
    }
    const patch = doc.paths['/entries/{id}'].patch;
    expect(Object.keys(patch.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404', '409', '412', '428', '429']));
    expect(patch.security).toEqual([{ apiKey: [] }]);
    expect(doc.paths['/events'].get.security).toEqual([{ apiKey: [] }]);
    // Reads are public by default: the key is optional.
    expect(doc.paths['/timelines'].get.security).toEqual([{}, { apiKey: [] }]);
    expect(doc.paths['/health'].get.security).toEqual([]);
    expect(doc.paths['/entries/{id}'].get.responses['200'].headers.ETag).toBeDefined();
    expect(doc.paths['/timelines/{slug}/entries'].get.responses['304']).toBeDefined();
  });
});

describe('the examples and schemas agree with the real API', () => {
  const base = () => service.url;
  const send = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const reply = await fetch(`${base()}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await reply.text();
    return { status: reply.status, headers: reply.headers, body: text ? JSON.parse(text) : undefined };
  };
  const examplesOf = (path: string, method: string) => doc.paths[path][method].requestBody.content['application/json'].examples as Record<string, { value: unknown }>;

  it('opens the example timeline, records each example entry, corrects and retracts with the examples', async () => {
    const openExamples = examplesOf('/timelines', 'post');
    expect(Object.values(openExamples).map((e) => e.value)).toEqual([OPEN_TIMELINE_EXAMPLE]);
    const opened = await send('POST', '/timelines', openExamples.timeline.value);
    expect(opened.status).toBe(201);
    expect(responseSchemaRef('/timelines', 'post', 201)).toBe('#/components/schemas/TimelineOpened');
    expectSchema('TimelineOpened', opened.body);

    const recordExamples = examplesOf('/timelines/{slug}/entries', 'post');
    expect(Object.keys(recordExamples).sort()).toEqual(['announcement', 'delivery', 'signing']);
    const ids: Record<string, string> = {};
    for (const [kind, example] of Object.entries(recordExamples)) {
      expect(example.value).toEqual(RECORD_EXAMPLES[kind as keyof typeof RECORD_EXAMPLES].value);
      expectSchema(`Record${kind[0].toUpperCase()}${kind.slice(1)}Dto`, example.value);
      const written = await send('POST', `/timelines/${EXAMPLE_SLUG}/entries`, example.value);
      expect({ kind, status: written.status, body: written.body }).toMatchObject({ kind, status: 201 });
      expectSchema('EntryWritten', written.body);
      ids[kind] = written.body.entryId;
    }

    const entry = await send('GET', `/entries/${ids.signing}`);
    expect(entry.status).toBe(200);
    expectSchema('Entry', entry.body);
    expect(entry.headers.get('etag')).toBe('"0"');

    const corrected = await send('PATCH', `/entries/${ids.signing}`, CORRECT_EXAMPLES.signing.value, { 'if-match': '"0"' });
    expect({ status: corrected.status, body: corrected.body }).toMatchObject({ status: 200, body: { revision: 1 } });
    expectSchema('CorrectEntryDto', CORRECT_EXAMPLES.signing.value);
    const removed = await send('PATCH', `/entries/${ids.announcement}`, CORRECT_EXAMPLES.remove.value, { 'if-match': '"0"' });
    expect({ status: removed.status, body: removed.body }).toMatchObject({ status: 200, body: { revision: 1 } });
    expectSchema('EntryWritten', removed.body);
    const retracted = await send('POST', `/entries/${ids.delivery}/retraction`, RETRACT_EXAMPLE);
    expect(retracted.status).toBe(200);
    expectSchema('RetractEntryDto', RETRACT_EXAMPLE);

    const page = await send('GET', `/timelines/${EXAMPLE_SLUG}/entries?includeRetracted=true&limit=2`);
    expect(page.status).toBe(200);
    expectSchema('EntryPage', page.body);
    expect(page.body.items.length).toBe(2);
    expect(page.headers.get('etag')).toBeTruthy();
    expectSchema('EntryPage', (await send('GET', `/timelines/${EXAMPLE_SLUG}/entries?asOf=${opened.body.position}`)).body);

    expectSchema('Timeline', (await send('GET', `/timelines/${EXAMPLE_SLUG}`)).body);
    expectSchema('TimelineList', (await send('GET', '/timelines')).body);
    expectSchema('History', (await send('GET', `/entries/${ids.signing}/history`)).body);
    expectSchema('EventsPage', (await send('GET', '/events?limit=2')).body);
    expectSchema('TimelineJsDocument', (await send('GET', `/timelines/${EXAMPLE_SLUG}/export?format=timelinejs`)).body);
    expectSchema('HealthReport', (await send('GET', '/health')).body);
    const ndjson = await (await fetch(`${base()}/events?format=ndjson`)).text();
    for (const line of ndjson.trim().split('\n')) expectSchema('LogItem', JSON.parse(line));
  });

  it('documents the error answers the API gives', async () => {
    const invalid = await send('POST', '/timelines', { slug: 'Not A Slug', title: '' });
    expect(invalid.status).toBe(400);
    expectSchema('ErrorBody', invalid.body);
    expect(invalid.body.errors.map((e: Doc) => e.field)).toEqual(expect.arrayContaining(['slug', 'title']));
    // What the schema refuses, the API refuses too.
    const tooLong = { ...OPEN_TIMELINE_EXAMPLE, slug: 'long-title', title: 'x'.repeat(schema('OpenTimelineDto').properties.title.maxLength + 1) };
    expect(ajv.compile({ $ref: 'doc#/components/schemas/OpenTimelineDto' })(tooLong)).toBe(false);
    expect((await send('POST', '/timelines', tooLong)).status).toBe(400);
    const unknownField = { ...OPEN_TIMELINE_EXAMPLE, slug: 'unknown-field', colour: 'red' };
    expect(ajv.compile({ $ref: 'doc#/components/schemas/OpenTimelineDto' })(unknownField)).toBe(false);
    expect((await send('POST', '/timelines', unknownField)).status).toBe(400);
    expectSchema('ErrorBody', (await send('GET', '/timelines/no-such-timeline')).body);
    expectSchema('ErrorBody', (await send('PATCH', '/entries/00000000-0000-4000-8000-000000000000', { changes: {}, reason: 'x' })).body);
    expectSchema('ErrorBody', (await send('GET', '/timelines', undefined, { authorization: 'Bearer not-a-key-at-all' })).body);
  });
});

describe('GET /docs (Swagger UI)', () => {
  const assetsOf = (html: string): string[] => [...html.matchAll(/<(?:script|link)[^>]+(?:src|href)=["']([^"']+)["']/g)].map((m) => m[1]);

  it.each(['/docs', '/docs/'])('%s answers HTML whose scripts and stylesheets load', async (path) => {
    const reply = await fetch(`${service.url}${path}`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/text\/html/);
    const csp = reply.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    const html = await reply.text();
    expect(html).not.toMatch(/<script>(?!\s*<\/script>)/); // no inline scripts: CSP would block them
    const assets = assetsOf(html);
    expect(assets).toEqual(expect.arrayContaining([expect.stringContaining('swagger-ui-bundle.js'), expect.stringContaining('swagger-ui.css'), expect.stringContaining('swagger-ui-init.js')]));
    for (const asset of assets) {
      const url = new URL(asset, `${service.url}${path}`);
      expect(url.origin).toBe(service.url);
      const loaded = await fetch(url);
      expect({ asset: url.pathname, status: loaded.status }).toEqual({ asset: url.pathname, status: 200 });
    }
  });

  it('renders every operation in Chromium without CSP violations or errors', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
      await page.addInitScript({
        content: "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));",
      });
      await page.goto(`${service.url}/docs`, { waitUntil: 'load' });
      const operations = Object.values<Doc>(doc.paths).reduce((n, item) => n + METHODS.filter((m) => item[m]).length, 0);
      await page.waitForFunction(`document.querySelectorAll('.opblock').length >= ${operations}`, undefined, { timeout: 20_000 });
      expect(await page.locator('.opblock').count()).toBe(operations);
      expect(await page.locator('.info .title').innerText()).toContain('Timeline service');
      // Open one operation: its parameters, with their constraints, render.
      await page.locator('#operations-entries-EntriesController_list .opblock-summary').click();
      await page.locator('#operations-entries-EntriesController_list .parameters').waitFor();
      expect(await page.locator('#operations-entries-EntriesController_list .parameters').innerText()).toContain('limit');
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
