#!/usr/bin/env bash
# Builds the release tools the tests run into test/bin, from this module's pinned versions:
#   krew                   kubectl-krew and validate-krew-manifest (sigs.k8s.io/krew)
#   goreleaser             goreleaser (github.com/goreleaser/goreleaser/v2)
# With no argument, builds both. A tool is rebuilt only when its binary is
# missing or go.mod/go.sum changed since it was built (a stamp file beside it).
# This is a separate module because krew needs k8s.io/* versions far older than
# the v0.37.2 that test/tools pins for the API server.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${BIN_DIR:-$(cd "$here/../.." && pwd)/bin}
mkdir -p "$bin"
cd "$here"
sum=$(cat go.mod go.sum | sha256sum | cut -c1-16)
ver() { go list -m -f '{{.Version}}' "$1"; }

# fresh STAMP BINARY...: true when every binary exists and was built from this go.mod and go.sum.
fresh() {
	local stamp=$1
	shift
	[ "$(cat "$bin/.$stamp.version" 2>/dev/null)" = "$sum" ] || return 1
	for f in "$@"; do [ -x "$bin/$f" ] || return 1; done
}

build_krew() {
	fresh krew kubectl-krew validate-krew-manifest && return 0
	local v
	v=$(ver sigs.k8s.io/krew)
	echo "test/tools/release: building krew $v into $bin" >&2
	go build -ldflags "-s -w -X sigs.k8s.io/krew/internal/version.gitTag=$v -X sigs.k8s.io/krew/internal/version.gitCommit=module" \
		-o "$bin/kubectl-krew" sigs.k8s.io/krew/cmd/krew
	go build -ldflags "-s -w" -o "$bin/validate-krew-manifest" sigs.k8s.io/krew/cmd/validate-krew-manifest
	echo "$sum" >"$bin/.krew.version"
}

build_goreleaser() {
	fresh goreleaser goreleaser && return 0
	local v
	v=$(ver github.com/goreleaser/goreleaser/v2)
	echo "test/tools/release: building goreleaser $v into $bin (first time takes a few minutes)" >&2
	go build -ldflags "-s -w -X main.version=$v -X main.builtBy=test/tools/release" \
		-o "$bin/goreleaser" github.com/goreleaser/goreleaser/v2
	echo "$sum" >"$bin/.goreleaser.version"
}

[ $# -gt 0 ] || set -- krew goreleaser
for tool in "$@"; do
	case $tool in
	krew) build_krew ;;
	goreleaser) build_goreleaser ;;
	*) echo "build.sh: unknown tool $tool (krew, goreleaser)" >&2; exit 2 ;;
	esac
done
