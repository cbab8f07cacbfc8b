// The cluster suite: runs against a deployed gateway named by the environment (the skaffold
// `verify` stage and the e2e image set it). `make test` runs the same scenarios against a local
// fleet in tests/integration/cluster-scenarios.test.ts.
import { readFileSync } from 'node:fs';
import { type GatewayTarget, SCENARIOS } from './scenarios';

function targetFromEnv(): GatewayTarget {
  const url = process.env.COMMUCAT_GATEWAY_URL;
  if (url === undefined || url === '') {
    throw new Error('set COMMUCAT_GATEWAY_URL to the gateway (e.g. https://commucat-gateway:8443); COMMUCAT_GATEWAY_CA=<pem file> or COMMUCAT_GATEWAY_INSECURE=1 for its certificate');
  }
  const caFile = process.env.COMMUCAT_GATEWAY_CA;
  return {
    url,
    ...(caFile ? { ca: readFileSync(caFile) } : {}),
    ...(process.env.COMMUCAT_GATEWAY_INSECURE === '1' ? { rejectUnauthorized: false } : {}),
  };
}

jest.setTimeout(60_000);

describe(`the deployed gateway ${process.env.COMMUCAT_GATEWAY_URL ?? '(COMMUCAT_GATEWAY_URL unset)'}`, () => {
  const target = targetFromEnv();
  test.each(SCENARIOS)('%s', async (_name, scenario) => {
    await scenario(target);
  });
});
