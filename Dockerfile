# Halyard: one image for `halyard serve`, paper workers and every other command.
# Build: docker build -t halyard .   Run: see compose.yaml and docs/deploy.md.

# 1. Build: install every dependency (better-sqlite3 compiles here), build the CLI (dist/) and the
#    dashboard (web/dist/), then drop the development dependencies.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY src ./src
COPY web ./web
COPY bin ./bin
COPY strategies ./strategies
COPY tsconfig.json ./
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

# 2. Run: the build, the production dependencies and the example strategies; no compiler, no sources.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    DATABASE_PATH=/data/halyard.db \
    CACHE_PATH=/data/candles \
    OUTPUT_PATH=/data/output \
    LOG_FORMAT=json
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/web/dist ./web/dist
COPY --from=build /app/strategies ./strategies
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "bin/halyard.js", "serve", "--host", "0.0.0.0", "--port", "8080"]
