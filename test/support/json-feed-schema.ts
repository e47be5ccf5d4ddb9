/**
 * JSON Feed 1.1 as a JSON Schema, written from the specification
 * (https://www.jsonfeed.org/version/1.1/) for the feed tests: the spec's fields
 * and only those (extensions are keys starting with `_`), their types, what is
 * required (version, title, items; an item's id and one of content_html or
 * content_text), RFC 3339 dates, URLs. No package publishes one we could use.
 */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

const extensions = { '^_': {} };
const author = {
  type: 'object',
  properties: { name: { type: 'string' }, url: { type: 'string', format: 'uri' }, avatar: { type: 'string', format: 'uri' } },
  anyOf: [{ required: ['name'] }, { required: ['url'] }, { required: ['avatar'] }],
  additionalProperties: false,
  patternProperties: extensions,
};
const url = { type: 'string', format: 'uri' };
const date = { type: 'string', format: 'date-time' };

const item = {
  type: 'object',
  required: ['id'],
  anyOf: [{ required: ['content_html'] }, { required: ['content_text'] }],
  properties: {
    id: { type: 'string' },
    url,
    external_url: url,
    title: { type: 'string' },
    content_html: { type: 'string' },
    content_text: { type: 'string' },
    summary: { type: 'string' },
    image: url,
    banner_image: url,
    date_published: date,
    date_modified: date,
    authors: { type: 'array', items: author },
    author, // 1.0's, deprecated in 1.1
    tags: { type: 'array', items: { type: 'string' } },
    language: { type: 'string' },
    attachments: { type: 'array', items: { type: 'object', required: ['url', 'mime_type'] } },
  },
  additionalProperties: false,
  patternProperties: extensions,
};

export const JSON_FEED_1_1_SCHEMA = {
  type: 'object',
  required: ['version', 'title', 'items'],
  properties: {
    version: { const: 'https://jsonfeed.org/version/1.1' },
    title: { type: 'string' },
    home_page_url: url,
    feed_url: url,
    description: { type: 'string' },
    user_comment: { type: 'string' },
    next_url: url,
    icon: url,
    favicon: url,
    authors: { type: 'array', items: author },
    author,
    language: { type: 'string' },
    expired: { type: 'boolean' },
    hubs: { type: 'array', items: { type: 'object', required: ['type', 'url'] } },
    items: { type: 'array', items: item },
  },
  additionalProperties: false,
  patternProperties: extensions,
};

/** The problems ajv finds in `feed` as JSON Feed 1.1, or [] when it is one. */
export function jsonFeedProblems(feed: unknown): string[] {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(JSON_FEED_1_1_SCHEMA);
  return validate(feed) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
