#!/usr/bin/env bash
# Build the pinned OPA (and actionlint) with `go install` into DIR (default tools/bin) when they
# are missing or of another version, and print where they are. Put DIR on PATH for the tests:
# the "opa" engine finds `opa` through GATE_OPA_BINARY or PATH only.
#
#   bash .ci/install-tools.sh [DIR]
set -euo pipefail

OPA_VERSION="v1.22.3"
ACTIONLINT_VERSION="v1.7.12"

dir="${1:-tools/bin}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

if ! command -v go >/dev/null 2>&1; then
  echo "install-tools: go is not installed; cannot build opa $OPA_VERSION or actionlint $ACTIONLINT_VERSION" >&2
  echo "install-tools: tests that need them skip (or fail with GATE_REQUIRE_OPA=1 / GATE_REQUIRE_TOOLS=1)" >&2
  exit 0
fi

# `go install pkg@version` builds outside any module; run it from a neutral folder so a go.mod
# or go.work around the checkout cannot interfere.
build() {
  local pkg="$1"
  (cd "${TMPDIR:-/tmp}" && GOBIN="$dir" GOFLAGS=-mod=mod GOWORK=off go install "$pkg")
}

# Versions are read into variables first: `cmd | grep -q` under pipefail fails when grep stops
# reading early and cmd dies of SIGPIPE.
have_opa="$("$dir/opa" version 2>/dev/null || true)"
have_actionlint="$("$dir/actionlint" -version 2>/dev/null || true)"

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

opa_version="$("$dir/opa" version)"
actionlint_version="$("$dir/actionlint" -version)"
echo "opa: $dir/opa (${opa_version%%$'\n'*})"
echo "actionlint: $dir/actionlint (${actionlint_version%%$'\n'*})"
