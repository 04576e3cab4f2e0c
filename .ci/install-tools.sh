#!/usr/bin/env bash
# Build the pinned OPA (and actionlint, and osv-scanner for the vulnerability-database differential
# test) with `go install` into DIR (default tools/bin) when they
# are missing or of another version, and print where they are. Put DIR on PATH for the tests:
# the "opa" engine finds `opa` through GATE_OPA_BINARY or PATH only.
#
#   bash .ci/install-tools.sh [DIR]
set -euo pipefail

OPA_VERSION="v1.22.3"
ACTIONLINT_VERSION="v1.7.12"
# osv-scanner: the reference the gate's own SBOM x OSV matching is compared with (tests/test_vulndb_differential.py).
# v2.2.4 builds with the machine's Go (GOTOOLCHAIN=local: never download another toolchain).
OSV_SCANNER_VERSION="v2.2.4"

dir="${1:-tools/bin}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

if ! command -v go >/dev/null 2>&1; then
  echo "install-tools: go is not installed; cannot build opa $OPA_VERSION, actionlint $ACTIONLINT_VERSION or osv-scanner $OSV_SCANNER_VERSION" >&2
  echo "install-tools: tests that need them skip (or fail with GATE_REQUIRE_OPA=1 / GATE_REQUIRE_TOOLS=1)" >&2
  exit 0
fi

# `go install pkg@version` builds outside any module; run it from a neutral folder so a go.mod
# or go.work around the checkout cannot interfere.
build() {
  local pkg="$1"
  (cd "${TMPDIR:-/tmp}" && GOBIN="$dir" GOFLAGS=-mod=mod GOWORK=off GOTOOLCHAIN=local go install "$pkg")
}

# Versions are read into variables first: `cmd | grep -q` under pipefail fails when grep stops
# reading early and cmd dies of SIGPIPE.
have_opa="$("$dir/opa" version 2>/dev/null || true)"
have_actionlint="$("$dir/actionlint" -version 2>/dev/null || true)"
have_osv_scanner="$("$dir/osv-scanner" --version 2>/dev/null || true)"

if [[ "$have_opa" == *"Version: ${OPA_VERSION#v}"* ]]; then
  echo "install-tools: opa ${OPA_VERSION#v} already in $dir" >&2
else
  echo "install-tools: building opa $OPA_VERSION into $dir (a few minutes on a cold Go cache)" >&2
  build "github.com/open-policy-agent/opa@$OPA_VERSION"
fi

if [[ "$have_actionlint" == "$ACTIONLINT_VERSION"* ]]; then
  echo "install-tools: actionlint $ACTIONLINT_VERSION already in $dir" >&2
else
  echo "install-tools: building actionlint $ACTIONLINT_VERSION into $dir" >&2
  build "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
fi

if [[ "$have_osv_scanner" == *"osv-scanner version: ${OSV_SCANNER_VERSION#v}"* ]]; then
  echo "install-tools: osv-scanner ${OSV_SCANNER_VERSION#v} already in $dir" >&2
else
  echo "install-tools: building osv-scanner $OSV_SCANNER_VERSION into $dir (a few minutes on a cold Go cache)" >&2
  build "github.com/google/osv-scanner/v2/cmd/osv-scanner@$OSV_SCANNER_VERSION"
fi

opa_version="$("$dir/opa" version)"
actionlint_version="$("$dir/actionlint" -version)"
echo "opa: $dir/opa (${opa_version%%$'\n'*})"
echo "actionlint: $dir/actionlint (${actionlint_version%%$'\n'*})"
osv_scanner_version="$("$dir/osv-scanner" --version)"
echo "osv-scanner: $dir/osv-scanner (${osv_scanner_version%%$'\n'*})"
