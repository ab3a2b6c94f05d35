# syntax=docker/dockerfile:1
# The cit API: `docker build -t cit .`, then
# `docker run -p 8080:8080 -e CIT_MODE=production -e CIT_JWT_SECRET=… -e CIT_DATABASE_URL=postgres://… cit`.

FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
# The registry and target caches only speed up rebuilds; the binary is copied out of the cache.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release -p cit --locked \
 && install -D -m 0755 target/release/cit /out/cit

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 cit \
 && useradd --system --uid 10001 --gid cit --home-dir /var/lib/cit --shell /usr/sbin/nologin cit \
 && mkdir -p /var/lib/cit/data \
 && chown -R cit:cit /var/lib/cit
COPY --from=builder /out/cit /usr/local/bin/cit
USER 10001:10001
WORKDIR /var/lib/cit
ENV CIT_LISTEN=0.0.0.0:8080 \
    CIT_DATA_DIR=/var/lib/cit/data
EXPOSE 8080
# No HEALTHCHECK: the image has no HTTP client. Probe GET /healthz and /readyz from outside.
ENTRYPOINT ["cit"]
CMD ["serve"]
