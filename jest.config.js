// Nest 12 ships ES modules; Node 20's Jest cannot require() them, so SWC compiles
// them to CommonJS along with our TypeScript (Node 24.9+ would not need this).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.(ts|js|mjs)$': swc },
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|load-esm|file-type|uid|@standard-schema|token-types|strtok3|@tokenizer)/)'],
  moduleNameMapper: { '^@timeline/(.*)$': '<rootDir>/libs/$1/src' },
};
module.exports = {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
};
