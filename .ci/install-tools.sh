#!/usr/bin/env bash
# Build the pinned OPA and actionlint from the Go module proxy into DIR when they are missing.
set -euo pipefail
dir="${1:-tools/bin}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
OPA_VERSION="v1.22.3"
ACTIONLINT_VERSION="v1.7.12"
if ! command -v go >/dev/null 2>&1; then
  echo "install-tools: go is not installed; tests needing opa/actionlint will skip (or fail under CI switches)" >&2
  exit 0
fi
if [ ! -x "$dir/opa" ] || ! "$dir/opa" version 2>/dev/null | grep -q "${OPA_VERSION#v}"; then
  echo "install-tools: building opa $OPA_VERSION into $dir" >&2
  (cd /tmp && GOBIN="$dir" GOFLAGS=-mod=mod go install "github.com/open-policy-agent/opa@$OPA_VERSION")
fi
if [ ! -x "$dir/actionlint" ]; then
  echo "install-tools: building actionlint $ACTIONLINT_VERSION into $dir" >&2
  (cd /tmp && GOBIN="$dir" go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION")
fi
echo "install-tools: $("$dir/opa" version 2>&1 | sed -n 1p); actionlint $("$dir/actionlint" --version 2>&1 | sed -n 1p)"
