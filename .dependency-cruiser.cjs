// The dependency rules of DESIGN.md ("Rules that keep the house easy to
// change"), checked on every `npm test`.
const outside = (...folders) => `^src/(${folders.join('|')})/`;

module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'core-is-plain',
      comment: 'core/ imports nothing outside core/: no HTTP, SQL, processes or packages.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { pathNot: '^src/core/' },
    },
    {
      name: 'services-use-core-only',
      severity: 'error',
      from: { path: '^src/services/' },
      to: { path: outside('api', 'store', 'blob', 'providers', 'agent', 'scheduler', 'server', 'cli', 'config', 'testkit', 'web') },
    },
    {
      name: 'services-no-packages',
      comment: 'services/ reach the outside only through core ports.',
      severity: 'error',
      from: { path: '^src/services/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'adapters-stay-apart',
      comment: 'store/, blob/ and providers/ implement core ports; they never import services/, api/ or each other.',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: outside('services', 'api', 'blob', 'providers', 'agent', 'scheduler', 'server') },
    },
    {
      name: 'blob-stays-apart',
      severity: 'error',
      from: { path: '^src/blob/' },
      to: { path: outside('services', 'api', 'store', 'providers', 'agent', 'scheduler', 'server') },
    },
    {
      name: 'providers-stay-apart',
      comment: 'providers/ start agents and speak the agent protocol (api/node/); never the Batch API, services or store.',
      severity: 'error',
      from: { path: '^src/providers/' },
      to: { path: outside('services', 'api/batch', 'store', 'blob', 'scheduler', 'server') },
    },
    {
      name: 'api-uses-services',
      comment: 'api/ calls services/ and core/; never the store or a provider.',
      severity: 'error',
      from: { path: '^src/api/' },
      to: { path: outside('store', 'providers', 'blob', 'agent', 'scheduler', 'server') },
    },
    {
      name: 'agent-is-standalone',
      comment: 'agent/ runs on a machine with nothing else of Lapis: core types, its own code and the api/node client.',
      severity: 'error',
      from: { path: '^src/agent/' },
      to: { path: outside('services', 'api/batch', 'store', 'blob', 'providers', 'scheduler', 'server', 'cli', 'config') },
    },
    {
      name: 'scheduler-uses-services',
      severity: 'error',
      from: { path: '^src/scheduler/' },
      to: { path: outside('api', 'store', 'blob', 'providers', 'agent', 'server', 'cli') },
    },
    {
      name: 'cli-speaks-http',
      comment: 'cli/ uses the public API; `serve` starts the server through server/, `agent` runs agent/agent-process.ts.',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: outside('api', 'services', 'store', 'blob', 'providers', 'agent', 'scheduler', 'core'), pathNot: '^src/agent/agent-process\\.ts$' },
    },
    {
      name: 'ui-is-browser-code',
      comment: 'src/ui/ is the dashboard page: it speaks HTTP to /ui/api only, and nothing on the server imports it (api/dashboard/ serves its bundle).',
      severity: 'error',
      from: { path: '^src/ui/' },
      to: { pathNot: '^src/ui/', dependencyTypes: ['local', 'aliased-tsconfig'] },
    },
    {
      name: 'nobody-imports-ui',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/ui/' },
      to: { path: '^src/ui/' },
    },
    {
      name: 'nobody-imports-testkit',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/testkit/' },
      to: { path: '^src/testkit/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js'] },
  },
};
