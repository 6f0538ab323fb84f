# clogtest: the two commands a developer needs are `make run` and `make test`.
# Both install what they need (Debian packages, npm packages, kernel and lvm2 source).
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
CLOGTEST := ./clogtest
TAP := node_modules/.bin/tap
TSX := node --import tsx

.PHONY: setup npm kernel image test test-unit test-integration test-bisect test-stacks typecheck run bench mutation

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

npm: node_modules/.package-lock.json

setup: npm
	$(CLOGTEST) setup

kernel: setup
	$(CLOGTEST) kernel

image: setup
	$(CLOGTEST) image

typecheck: npm
	node_modules/.bin/tsc --noEmit

# Unit tests need no VM; integration tests boot real guests (under KVM where a test guest runs under
# it in time, else TCG: `clogtest doctor` says which and why).
test-unit: npm
	$(TAP) --reporter=tap --timeout=120 test/unit/*.test.ts test/unit/*/*.test.ts | $(TSX) test/summary.ts

test-integration: kernel image
	$(TAP) --reporter=tap --timeout=1800 --jobs=1 test/integration/*.test.ts | $(TSX) test/summary.ts

# Everything, in one TAP stream so the last line counts it all: unit, integration, and the
# bisection proof (a few cmirrord builds and cluster runs; `make test-bisect` runs it alone).
test: setup typecheck kernel image
	$(TAP) --reporter=tap --timeout=3600 --jobs=1 test/unit/*.test.ts test/unit/*/*.test.ts test/integration/*.test.ts test/bisect/*.test.ts | $(TSX) test/summary.ts

# git bisect run on a planted cmirrord defect: a cmirrord build and a cluster run per step.
test-bisect: kernel image
	$(TAP) --reporter=tap --timeout=3600 --jobs=1 test/bisect/*.test.ts | $(TSX) test/summary.ts

run: kernel image
	$(CLOGTEST) run cases/

# Every stack of vm-images/stacks.yaml (`clogtest stacks`) built, each kernel and cmirrord from its
# own pinned sources, and healthy-sync run on each, side by side. Not part of `make test`: a cold
# run builds three kernels.
test-stacks: setup
	$(CLOGTEST) run --stack all cases/healthy-sync.yaml

bench: kernel image
	$(CLOGTEST) bench cluster

# The defect corpus: each planted defect built in, its cases run, caught or missed, and a score.
mutation: kernel image
	$(CLOGTEST) mutate
