// One compiler for what ships and what is tested: the `.swcrc` that `nest build`
// compiles the service and the CLI with (nest-cli.json) is the one Jest compiles
// the tests' sources with, so decorator metadata is the same in both. Nest 12
// ships ES modules, which Node 20's Jest cannot require(), so SWC compiles those
// to CommonJS too (Node 24.9+ would not need this).
const { readFileSync } = require('node:fs');
const { $schema, ...swcrc } = JSON.parse(readFileSync(`${__dirname}/.swcrc`, 'utf8'));
const swc = ['@swc/jest', { ...swcrc, swcrc: false }];
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.(ts|js|mjs)$': swc },
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|load-esm|file-type|uid|@standard-schema|token-types|strtok3|@tokenizer|feed|eventsource|eventsource-parser)/)'], // feed 6 and eventsource 5 ship ES modules only
  moduleNameMapper: { '^@timeline/(.*)$': '<rootDir>/libs/$1/src' },
};
module.exports = {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/*.e2e-spec.ts', '<rootDir>/test/kurrentdb-emulator/**/*.spec.ts'] },
    // The built artifact (dist/) as its own process, spoken to only as clients do.
    {
      ...shared,
      displayName: 'acceptance',
      testMatch: ['<rootDir>/test/acceptance/**/*.acceptance-spec.ts'],
      globalSetup: '<rootDir>/test/acceptance/support/build-once.ts',
    },
    // The benchmark harness's smoke test: needs bench/'s own install, so only `npm run bench:smoke` runs it.
    { ...shared, displayName: 'bench', testMatch: ['<rootDir>/bench/**/*.spec.ts'] },
  ],
};
