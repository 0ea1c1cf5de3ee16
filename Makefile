# kubectl-harden: build, test (unit + e2e against a real kube-apiserver), demo, lint.
GO ?= go
BIN := bin/kubectl-harden
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/kubectl-harden/kubectl-harden/pkg/cmd.version=$(VERSION)

.PHONY: build test bench-short unit e2e fuzz-rbac test-tools release-tools krew-validate release-check release-snapshot demo lint bench clean

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) .

# The test API server, etcd and kubectl, built from the Go module proxy into test/bin.
test-tools:
	bash test/tools/build.sh

unit:
	$(GO) test -count=1 ./pkg/... ./test/cluster/...

# krew, validate-krew-manifest and goreleaser, from their own module (test/tools/release) into test/bin.
release-tools:
	bash test/tools/release/build.sh

# The custom-index manifest is valid for krew (the archives it names are installed by the e2e test).
krew-validate: release-tools
	test/bin/validate-krew-manifest -manifest plugins/harden.yaml -skip-install

# The release config is valid for goreleaser.
release-check: release-tools
	test/bin/goreleaser check

# Every release archive, checksums.txt and the rendered krew manifest into dist/, without publishing
# (the ko image is left out: it needs its base image from the network).
release-snapshot: release-tools
	test/bin/goreleaser release --snapshot --clean --skip=ko

e2e: test-tools release-tools
	$(GO) test -count=1 -timeout 20m ./test/e2e/...

test: lint test-tools krew-validate release-check
	$(GO) test -count=1 -timeout 25m ./...
	$(MAKE) bench-short

# Every benchmark once, at size S: they still run, never as timed assertions.
bench-short:
	$(GO) test -run '^$$' -bench . -benchtime=1x ./test/bench/...

# Starts the sample cluster, runs `kubectl harden` against it through the real kubectl, stops it.
demo: test-tools
	$(GO) run ./test/demo

# The randomized RBAC test against SubjectAccessReview with other seeds: make fuzz-rbac SEEDS=100,101 QUERIES=300
fuzz-rbac: test-tools
	HARDEN_RBAC_SEEDS=$(SEEDS) HARDEN_RBAC_QUERIES=$(or $(QUERIES),150) $(GO) test -count=1 -run TestRBACRandomizedAgainstSubjectAccessReview -v ./test/e2e/

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./test/bench/...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin dist
