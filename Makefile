# The two commands that matter: `make up` runs the fleet, `make test` runs every suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export CARGO_TARGET_DIR ?= $(HOME)/.cache/commucat/cargo-target

.PHONY: help up down status diagnose deps build test test-unit test-interop test-integration test-chart test-images images bench proto clean

help:
	@echo "make up      install what is missing, build, start the whole fleet, print the gateway URL"
	@echo "make down    stop the fleet and the local stack"
	@echo "make diagnose  check the stack and every service of the local fleet"
	@echo "make test    every suite: unit, interop (Rust harness), integration against the real fleet"
	@echo "make test-chart  helm lint/template + strict kubeconform of charts/commucat (installs pinned tools once)"
	@echo "make images  every container image, built with podman from a local Debian base (scripts/images.sh)"
	@echo "make test-images  build the images, then run the fleet from them with podman (handshake + message)"
	@echo "make bench   benchmarks, printed as a table"
	@echo "make proto   regenerate libs/contracts from proto/"

up:
	@bash scripts/fleet.sh up

down:
	@bash scripts/fleet.sh down

status:
	@bash scripts/fleet.sh status

diagnose:
	@bash scripts/fleet.sh cli diagnose

deps:
	@test -d node_modules || npm ci --no-audit --no-fund
	@bash scripts/stack.sh install

build: deps
	npx tsc -b tsconfig.build.json

test: build
	npx tsc -p tsconfig.test.json
	@bash scripts/stack.sh start
	bash tests/run-all.sh

test-unit: build
	@bash scripts/stack.sh start
	bash tests/run-all.sh unit

test-interop: build
	bash tests/run-all.sh interop

images:
	@bash scripts/images.sh

test-images: build
	@bash scripts/stack.sh start
	bash tests/run-all.sh images

test-chart: deps
	bash tests/run-all.sh chart

test-integration: build
	@bash scripts/stack.sh start
	bash tests/run-all.sh integration

bench: build
	@bash scripts/stack.sh start
	bash tests/bench/run.sh

proto:
	bash scripts/proto-gen.sh
	npx tsc -b libs/contracts

clean:
	npx tsc -b tsconfig.build.json --clean
