#!/usr/bin/env bash
# Kubernetes tooling for the chart checks, from pinned versions through the Go module proxy only
# (no GitHub, no chart or image registries), cached so that a second run is instant:
#   install [--with-skaffold]  go-install helm and kubeconform (and skaffold, opt-in) into
#                              $COMMUCAT_TOOLS_DIR/bin and generate the Kubernetes JSON schemas
#   env                        print `export ...` lines (PATH, schema location) for eval
#   path                       print key=value lines: where each tool and the schemas are
# Progress goes to stderr; a run with everything cached prints nothing.
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)

# Pins. Bumping one rebuilds that tool (or regenerates the schemas) on the next install.
HELM_MODULE=helm.sh/helm/v3
HELM_VERSION=v3.19.0
KUBECONFORM_MODULE=github.com/yannh/kubeconform
KUBECONFORM_VERSION=v0.7.0
# v2.16.1 is the newest skaffold the Go proxy serves here (v2.16.2+ answer 403).
SKAFFOLD_MODULE=github.com/GoogleContainerTools/skaffold/v2
SKAFFOLD_VERSION=v2.16.1
KUBERNETES_VERSION=1.30.14
# CRD sources for the custom resources the chart can render (Gateway API TLSRoute, ServiceMonitor).
GATEWAY_API_MODULE=sigs.k8s.io/gateway-api
GATEWAY_API_VERSION=v1.3.0
PROMETHEUS_OPERATOR_MODULE=github.com/prometheus-operator/prometheus-operator
PROMETHEUS_OPERATOR_VERSION=v0.85.0

TOOLS_DIR=${COMMUCAT_TOOLS_DIR:-$HOME/.cache/commucat/tools}
BIN=$TOOLS_DIR/bin
GENERATOR=$ROOT/scripts/k8s-schemas.js

say() { echo "k8s-tools: $*" >&2; }
die() { echo "k8s-tools: error: $*" >&2; exit 1; }

# The schema folder is keyed by every input, including the generator itself, so any change
# produces a new folder and an unchanged setup reuses the old one.
schema_dir() {
  local generator_hash
  [[ -f $GENERATOR ]] || die "missing $GENERATOR"
  generator_hash=$(sha256sum "$GENERATOR" | cut -c1-12)
  echo "$TOOLS_DIR/schemas/k8s-v${KUBERNETES_VERSION}_gwapi-${GATEWAY_API_VERSION}_promop-${PROMETHEUS_OPERATOR_VERSION}_gen-${generator_hash}"
}

schema_location() {
  echo "$(schema_dir)/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"
}

need_go() {
  command -v go >/dev/null 2>&1 || die "Go is required (go install builds helm and kubeconform); install Go >= 1.24"
}

# Extracted source folder of module@version in the module cache (downloads it through the proxy).
module_dir() {
  local json
  json=$(cd "$TOOLS_DIR" && go mod download -json "$1@$2") || die "go mod download $1@$2 failed"
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json"
}

# True when the binary was built from the pinned module version (go version -m reads the build info).
binary_has_module_version() {
  local binary=$1 module=$2 version=$3
  [[ -x $binary ]] && go version -m "$binary" 2>/dev/null | grep -qP "^\s+mod\s+\Q$module\E\s+\Q$version\E(\s|$)"
}

install_go_tool() {
  local name=$1 module=$2 package=$3 version=$4 ldflags=$5
  if binary_has_module_version "$BIN/$name" "$module" "$version"; then return 0; fi
  say "building $name $version with go install (first run only; helm takes minutes on a cold cache)"
  local start=$SECONDS
  (cd "$TOOLS_DIR" && GOBIN="$BIN" go install -ldflags "$ldflags" "$package@$version") ||
    die "go install $package@$version failed"
  say "$name $version ready in $((SECONDS - start))s"
}

# skaffold's go.mod carries replace directives, which `go install pkg@version` refuses, so it is
# built with `go build` inside a writable copy of its module source (main module: replaces apply).
install_skaffold() {
  if [[ -x $BIN/skaffold ]] && [[ $("$BIN/skaffold" version 2>/dev/null) == "$SKAFFOLD_VERSION" ]]; then return 0; fi
  say "building skaffold $SKAFFOLD_VERSION from its module source (first run only; takes many minutes)"
  local start=$SECONDS src work
  src=$(module_dir "$SKAFFOLD_MODULE" "$SKAFFOLD_VERSION")
  [[ -d $src ]] || die "no source folder for $SKAFFOLD_MODULE@$SKAFFOLD_VERSION"
  work=$(mktemp -d "$TOOLS_DIR/skaffold-build.XXXXXX")
  cp -r "$src/." "$work/"
  chmod -R u+w "$work"
  if ! (cd "$work" && GOFLAGS="${GOFLAGS:-} -mod=mod" go build \
    -ldflags "-s -w -X $SKAFFOLD_MODULE/pkg/skaffold/version.version=$SKAFFOLD_VERSION" \
    -o "$BIN/skaffold.tmp" ./cmd/skaffold); then
    rm -rf "$work"
    die "building skaffold $SKAFFOLD_VERSION failed"
  fi
  rm -rf "$work"
  mv "$BIN/skaffold.tmp" "$BIN/skaffold"
  say "skaffold $SKAFFOLD_VERSION ready in $((SECONDS - start))s"
}

install_schemas() {
  local dir
  dir=$(schema_dir)
  [[ -f $dir/.complete ]] && return 0
  command -v node >/dev/null 2>&1 || die "node is required to generate the Kubernetes JSON schemas"
  say "generating Kubernetes v$KUBERNETES_VERSION JSON schemas (first run only)"
  local start=$SECONDS kubernetes gateway_api prometheus_operator
  kubernetes=$(module_dir k8s.io/kubernetes "v$KUBERNETES_VERSION")
  gateway_api=$(module_dir "$GATEWAY_API_MODULE" "$GATEWAY_API_VERSION")
  prometheus_operator=$(module_dir "$PROMETHEUS_OPERATOR_MODULE" "$PROMETHEUS_OPERATOR_VERSION")
  local staging="$dir.tmp.$$"
  rm -rf "$staging"
  (cd "$ROOT" && node "$GENERATOR" \
    --swagger "$kubernetes/api/openapi-spec/swagger.json" \
    --kubernetes-version "$KUBERNETES_VERSION" \
    --crds "$gateway_api/config/crd/experimental" \
    --crds "$prometheus_operator/example/prometheus-operator-crd" \
    --out "$staging") || { rm -rf "$staging"; die "schema generation failed"; }
  touch "$staging/.complete"
  # Another install may have finished first (shared CI cache): keep its folder, drop ours.
  if ! mv -T "$staging" "$dir" 2>/dev/null; then
    rm -rf "$staging"
    [[ -f $dir/.complete ]] || die "could not move the schemas into $dir"
  fi
  say "schemas ready in $((SECONDS - start))s at $dir"
}

install() {
  local with_skaffold=${COMMUCAT_WITH_SKAFFOLD:-0}
  for arg in "$@"; do
    case "$arg" in
      --with-skaffold) with_skaffold=1 ;;
      *) die "unknown option $arg" ;;
    esac
  done
  need_go
  mkdir -p "$BIN"
  # The same -X stamps as helm's release Makefile: its version, and the Kubernetes version of its
  # client libraries (k8s.io/* v0.34) as the default for .Capabilities and lint deprecations.
  local helm_stamps="-X $HELM_MODULE/internal/version.version=$HELM_VERSION"
  local k8s_var
  for k8s_var in pkg/lint/rules pkg/chartutil; do
    helm_stamps+=" -X $HELM_MODULE/$k8s_var.k8sVersionMajor=1 -X $HELM_MODULE/$k8s_var.k8sVersionMinor=34"
  done
  install_go_tool helm "$HELM_MODULE" "$HELM_MODULE/cmd/helm" "$HELM_VERSION" "-s -w $helm_stamps"
  install_go_tool kubeconform "$KUBECONFORM_MODULE" "$KUBECONFORM_MODULE/cmd/kubeconform" "$KUBECONFORM_VERSION" \
    "-s -w -X main.version=$KUBECONFORM_VERSION"
  if [[ $with_skaffold == 1 ]]; then install_skaffold; fi
  install_schemas
}

case "${1:-}" in
  install) shift; install "$@" ;;
  env)
    # shellcheck disable=SC2016  # $PATH is meant to expand where the line is eval-ed
    printf 'export PATH=%q:"$PATH"\n' "$BIN"
    # Single quotes keep the {{ ... }} template literal; the cache path has no quote in it.
    printf "export COMMUCAT_KUBECONFORM_SCHEMA_LOCATION='%s'\n" "$(schema_location)"
    printf 'export COMMUCAT_KUBERNETES_VERSION=%q\n' "$KUBERNETES_VERSION"
    ;;
  path)
    echo "bin=$BIN"
    echo "helm=$BIN/helm"
    echo "kubeconform=$BIN/kubeconform"
    echo "skaffold=$BIN/skaffold"
    echo "schema_location=$(schema_location)"
    echo "kubernetes_version=$KUBERNETES_VERSION"
    ;;
  *)
    echo "usage: $0 install [--with-skaffold] | env | path" >&2
    exit 2
    ;;
esac
