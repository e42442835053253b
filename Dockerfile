# carbon-gate container image: a static (musl) binary and a CA bundle on an empty base.
#
# Stages:
#   builder  Rust on Debian 12 (bookworm); builds `cargo build --release --locked` for
#            <arch>-unknown-linux-musl. The TLS crates (aws-lc-sys via reqwest/rustls, ring via
#            octocrab) compile C code: for the musl targets aws-lc-sys uses its cc builder with
#            pre-generated bindings, so musl-gcc (Debian's musl-tools) is all they need; no cmake,
#            no clang, no bindgen, no OpenSSL.
#   runtime  FROM scratch: /carbon-gate, /etc/ssl/certs/ca-certificates.crt, non-root user 65532.
#            `docker build --target runtime -t carbon-gate .` gives this image.
#   action   The last stage (what a build without --target gives): the runtime image run as
#            root, for `docker://` steps and Docker container actions that write into the
#            workspace. See the note at that stage. (action.yml itself is a composite action
#            that installs the release binary: docs/github-action.md.)
#
# tests/container/build-and-run.sh builds the runtime and action stages of this file with buildah
# (no Docker daemon, no registry) from a binary built on the host by the same recipe, and runs it.

# Base image, pinned by the digest of its multi-platform index (OCI image index, 10 entries;
# linux/amd64 manifest sha256:af0579d28b9a7ec5251aaafcb0c0a23dcde5c97065112aae0cc3abeda42d5394).
# Source: Docker's official-images metadata, github.com/docker-library/repo-info, file
# repos/rust/remote/1.98.0-slim-bookworm.md at commit c8595a482fc41bdd0b6535f9377c3b34f0d9c3ad
# (the image built 2026-08-25 from Debian bookworm @1787529600); repos/rust/remote/slim-bookworm.md
# at that commit lists the same index digest. Check before bumping:
#   docker buildx imagetools inspect rust:1.98.0-slim-bookworm
# The crate's MSRV is 1.88 (Cargo.toml rust-version), so any later 1.x tag builds it.
FROM rust:1.98.0-slim-bookworm@sha256:f5b930229aa3a991d2ad65e358fc460719ddc404e5af6cb044d57215abce933e AS builder

# musl-gcc for the C parts of aws-lc-sys and ring. The version is bookworm's (unchanged since the
# release); the image already has ca-certificates, whose bundle the runtime stage copies.
RUN apt-get update \
    && apt-get install -y --no-install-recommends musl-tools=1.2.3-1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# Native musl target for the platform being built (x86_64 or aarch64).
RUN rustup target add "$(uname -m)-unknown-linux-musl"

COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY benches ./benches

# musl targets link statically by default (crt-static); strip the symbols (about 2.4 MB).
ENV CARGO_PROFILE_RELEASE_STRIP=symbols
# The build context has no .git: the commit `carbon-gate --version` prints comes from here.
ARG REVISION=unknown
ENV CARBON_GATE_COMMIT=${REVISION}
RUN target="$(uname -m)-unknown-linux-musl" \
    && cargo build --release --locked --target "$target" \
    && install -D -m 0755 "target/$target/release/carbon-gate" /out/carbon-gate \
    && /out/carbon-gate --version

FROM scratch AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="carbon-gate" \
      org.opencontainers.image.description="Carbon budgets for ML models, enforced in CI: reads emissions logs, checks YAML budgets per model version, exits non-zero when exceeded." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="scratch"
COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=builder /out/carbon-gate /carbon-gate
# rustls finds the bundle at this path on its own; the variable makes it explicit.
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
ENTRYPOINT ["/carbon-gate"]

# GitHub runs a Docker container action (or a `docker://` step) as the image's user with the workspace and the files
# behind $GITHUB_OUTPUT / $GITHUB_STEP_SUMMARY bind-mounted from the runner, owned by the runner's
# uid (1001) and not writable by others; GitHub's "Dockerfile support for GitHub Actions" says
# Docker actions must run as the default user (root) and not set USER. As 65532 the step outputs,
# the job summary and any report written into the workspace would fail with "permission denied".
# This stage therefore only switches back to root; nothing else differs from `runtime`.
FROM runtime AS action
# hadolint ignore=DL3002
USER 0:0
