#!/usr/bin/env node
import { runCli } from './run';

// process.exitCode rather than exit(): let stdout drain when it is a pipe.
runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // A probe of an unreachable host may leave a connect attempt pending past its report
    // (NATS waits up to 20 s): do not make the operator wait for it.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
