#!/usr/bin/env bash
# Runs the suites in order (unit, interop, chart, integration, images, or the ones named) and ends with one
# closing line "N passed, N failed" over all of them. Exits non-zero if any suite failed.
set -uo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
suites=("$@")
[[ ${#suites[@]} -gt 0 ]] || suites=(unit interop chart integration images)

eval "$(bash scripts/stack.sh env)"
out=$(mktemp -d)
status=0

run_jest() {
  local project=$1
  shift
  echo "=== suite: $project ==="
  npx jest --selectProjects "$project" --json --outputFile="$out/$project.json" "$@" || status=1
}

for suite in "${suites[@]}"; do
  case "$suite" in
    unit) run_jest unit ;;
    interop)
      echo "=== building the Rust interop harness and writing its vectors ==="
      if bash tests/interop/run.sh vectors; then run_jest interop --runInBand; else status=1; echo "interop harness failed" >&2; fi
      ;;
    chart)
      echo "=== helm, kubeconform and the Kubernetes 1.30 schemas (pinned, cached) ==="
      if bash scripts/k8s-tools.sh install; then run_jest chart; else status=1; echo "k8s tools install failed" >&2; fi
      ;;
    integration) run_jest integration --runInBand ;;
    images)
      echo "=== container images with podman (scripts/images.sh: local Debian base, cached layers) ==="
      if bash scripts/images.sh; then run_jest images --runInBand; else status=1; echo "image build failed" >&2; fi
      ;;
    *) echo "unknown suite $suite" >&2; exit 2 ;;
  esac
done

node -e '
  const fs = require("fs"); const path = require("path");
  let passed = 0, failed = 0, suitesFailed = 0;
  for (const f of fs.readdirSync(process.argv[1])) {
    const r = JSON.parse(fs.readFileSync(path.join(process.argv[1], f), "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests;
    suitesFailed += r.numFailedTestSuites + (r.numRuntimeErrorTestSuites || 0);
  }
  if (suitesFailed > 0 && failed === 0) failed = suitesFailed; // a suite that failed to load counts
  console.log(`${passed} passed, ${failed} failed`);
' "$out"
exit $status
