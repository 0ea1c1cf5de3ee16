# kubectl-harden: build, test (unit + e2e against a real kube-apiserver), demo, lint.
GO ?= go
BIN := bin/kubectl-harden
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/kubectl-harden/kubectl-harden/pkg/cmd.version=$(VERSION)

.PHONY: build test unit e2e test-tools demo lint bench clean

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) .

# The test API server, etcd and kubectl, built from the Go module proxy into test/bin.
test-tools:
	bash test/tools/build.sh

unit:
	$(GO) test -count=1 ./pkg/... ./test/cluster/...

e2e: test-tools
	$(GO) test -count=1 -timeout 20m ./test/e2e/...

test: lint test-tools
	$(GO) test -count=1 -timeout 25m ./...

# Starts the sample cluster, runs `kubectl harden` against it through the real kubectl, stops it.
demo: test-tools
	$(GO) run ./test/demo

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./test/bench/...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin dist
