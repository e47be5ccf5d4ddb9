export { buildOpenApiDocument, DOCS_JSON_PATH, DOCS_PATH, setupOpenApi, unmappedValidators } from './setup-openapi';
