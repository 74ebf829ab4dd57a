# A drop-in pause image: /pause.ts, the relocatable bundle (the Node SEA built
# from this repository, its loader and the shared libraries it loads), and /pause,
# a link to /pause.ts/pause; nothing else. Any image can take the init from it:
# `COPY --from=THIS /pause.ts /pause.ts` (README, "Any image"). `docker build .` or `podman build .`;
# `docker buildx build --platform linux/amd64,linux/arm64 .` for a manifest list.

# The builder runs on the build machine's own platform and cross-builds for the
# target: the SEA is Node's arm64 binary with our script injected, which needs
# no emulation to make. The Node version is the one the SEA embeds (package.json).
FROM --platform=$BUILDPLATFORM node:26.12.1-bookworm-slim AS builder
ARG TARGETARCH
WORKDIR /src
ENV NPM_CONFIG_UPDATE_NOTIFIER=false
# binutils: strip (the build strips Node before injecting) and readelf (to
# gather the libraries); patchelf points the executable at the bundle's loader
# and libraries (scripts/bundle.ts). For arm64: the aarch64 strip, and Debian's arm64
# libraries through multiarch, which is what ends up in the image.
# PACKAGES, from `npm run image`: the same packages and their dependencies at
# exact versions (scripts/image-lock.ts), so that the versions it checked
# against image.lock.json are the ones installed.
ARG PACKAGES
RUN set -eu; \
    target="${TARGETARCH:-$(dpkg --print-architecture)}"; \
    case "$target" in \
      amd64) packages="binutils patchelf" ;; \
      arm64) packages="binutils patchelf binutils-aarch64-linux-gnu libc6:arm64 libstdc++6:arm64 libatomic1:arm64 libgcc-s1:arm64"; \
             [ "$(dpkg --print-architecture)" = arm64 ] || dpkg --add-architecture arm64 ;; \
      *) echo "unsupported TARGETARCH: $target (amd64 or arm64)" >&2; exit 1 ;; \
    esac; \
    [ -z "${PACKAGES:-}" ] || packages="$PACKAGES"; \
    apt-get update; \
    apt-get install -y --no-install-recommends $packages; \
    rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json ./
# No install scripts: the build needs none (node-pty is for the tests), and
# esbuild finds its platform binary without its postinstall.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY scripts ./scripts
COPY src ./src
# What `npm run image` passes (scripts/image-inputs.ts): the commit, for
# `/pause --version` (the context has no .git), and its time, for the SBOM's
# `created`. Declared here, after the slow steps, so a new commit reuses them.
ARG PAUSE_COMMIT
ARG SOURCE_DATE_EPOCH
RUN set -eu; \
    target="${TARGETARCH:-$(dpkg --print-architecture)}"; \
    case "$target" in amd64) arch=x64 ;; arm64) arch=arm64 ;; esac; \
    npm run build -- --arch "$arch" --out /out/pause; \
    node_modules/.bin/tsx scripts/rootfs.ts /out/pause /rootfs
# What a scanner reads (scripts/image-records.ts): a dpkg status record for each
# Debian package whose files the image holds, and an SPDX SBOM. Data, no executable.
RUN node_modules/.bin/tsx scripts/image-records.ts /rootfs /records

FROM scratch
# The records first: their SBOM is dated SOURCE_DATE_EPOCH. podman's layer cache
# does not compare --timestamp, so a layer (and every step after it) dated by an
# earlier build would be reused; a first layer that holds the date is never reused
# for another date. The ARGs below the layers for the same reason: alone at the top,
# their history entries would be reused with an earlier build's date.
COPY --from=builder /records/ /
COPY --from=builder /rootfs/ /
USER 65535:65535
ENTRYPOINT ["/pause"]
# Given by `npm run image` from package.json and git; empty in a bare `podman build .`.
ARG PAUSE_VERSION
ARG PAUSE_COMMIT
LABEL org.opencontainers.image.title="pause.ts" \
      org.opencontainers.image.description="A drop-in Kubernetes pause container (and tini-style init) in TypeScript, as one Node.js SEA executable" \
      org.opencontainers.image.source="https://github.com/pause-ts/pause.ts" \
      org.opencontainers.image.version="$PAUSE_VERSION" \
      org.opencontainers.image.revision="$PAUSE_COMMIT" \
      org.opencontainers.image.licenses="Apache-2.0"
