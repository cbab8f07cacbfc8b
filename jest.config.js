// Jest runs TypeScript through @swc/jest: it strips types without type-checking (tsc -b does
// that once for the whole repo), and it also turns the ESM-only @noble packages into CommonJS so
// the test runtime needs no --experimental-vm-modules. Workspace packages resolve to their
// sources, so tests never depend on a stale dist/.
const swc = ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }];
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: ['/node_modules/(?!(@noble)/)'],
  moduleNameMapper: {
    '^@commucat/([a-z0-9-]+)$': '<rootDir>/libs/$1/src/index.ts',
    // Sources import siblings as './x.js' (what Node resolves after compilation).
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
};
module.exports = {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/{libs,services}/*/test/**/*.test.ts'] },
    { ...shared, displayName: 'integration', testMatch: ['<rootDir>/tests/integration/**/*.test.ts'] },
    // Compares the TS libs with tests/interop/out/vectors.json, made by tests/interop/run.sh vectors.
    { ...shared, displayName: 'interop', testMatch: ['<rootDir>/tests/interop/**/*.test.ts'] },
    // Benchmarks that need whole fleets (e.g. two federated ones); only tests/bench/run.sh selects
    // this project, so `make test` (unit, interop, integration by name) never runs it.
    { ...shared, displayName: 'bench', testMatch: ['<rootDir>/tests/bench/jest/**/*.bench.test.ts'] },
    // Helm chart and rendered-manifest checks (helm, kubeconform from scripts/k8s-tools.sh).
    { ...shared, displayName: 'chart', testMatch: ['<rootDir>/tests/chart/**/*.test.ts'] },
    // The fleet run from its container images with podman (images from `make images`).
    { ...shared, displayName: 'images', testMatch: ['<rootDir>/tests/images/**/*.test.ts'] },
    // Scenarios against an already running gateway (COMMUCAT_GATEWAY_URL): skaffold verify, helm test.
    { ...shared, displayName: 'cluster', testMatch: ['<rootDir>/tests/cluster/**/*.test.ts'] },
  ],
};
