# syntax=docker/dockerfile:1
# One image for every cit process: the API (`cit serve`, the default), the partner sites
# (`cit site`), the desk (`cit desk`) and the one-off commands (`cit migrate`, `cit seed-bulk`,
# `cit backup`…). It carries the themes and their front-end packages (Bootstrap Italia, htmx), so
# the sites and the desk run from it. docker-compose.yml runs the whole stack from this image.
#   docker build -t cit .
#   docker run -p 8080:8080 -e CIT_MODE=production -e CIT_JWT_SECRET=… -e CIT_DATABASE_URL=postgres://… cit
#   docker run -p 8081:8081 -e CIT_SITE_API_URL=http://api:8080 -e CIT_SITE_LISTEN=0.0.0.0:8081 cit site

# The front-end packages, from the npm registry, as `npm ci` pins them (never a CDN).
FROM node:20-bookworm-slim AS assets
WORKDIR /src/themes/base
COPY themes/base/package.json themes/base/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
# The registry and target caches only speed up rebuilds; the binary is copied out of the cache.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release -p cit --locked \
 && install -D -m 0755 target/release/cit /out/cit

FROM debian:bookworm-slim
# curl only for the health checks of docker-compose.yml.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 cit \
 && useradd --system --uid 10001 --gid cit --home-dir /var/lib/cit --shell /usr/sbin/nologin cit \
 && mkdir -p /var/lib/cit/data \
 && chown -R cit:cit /var/lib/cit
COPY --from=builder /out/cit /usr/local/bin/cit
COPY themes /usr/share/cit/themes
COPY --from=assets /src/themes/base/node_modules /usr/share/cit/themes/base/node_modules
USER 10001:10001
WORKDIR /var/lib/cit
ENV CIT_LISTEN=0.0.0.0:8080 \
    CIT_DATA_DIR=/var/lib/cit/data \
    CIT_THEMES_DIR=/usr/share/cit/themes
EXPOSE 8080 8081 8082
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["cit"]
CMD ["serve"]
