# escalate: one build, two roles (targets). Both are stateless; see docker-compose.yml.
#   API:    docker build --target api -t escalate-api .      (port 8080, GET /healthz)
#   Worker: docker build --target worker -t escalate-worker . (metrics and /healthz on 9464)
# They need DATABASE_URL, TEMPORAL_ADDRESS, ESCALATE_SECRET_KEY (the API also ESCALATE_API_KEYS),
# and ESCALATE_PAYLOAD_KEY to encrypt Temporal payloads. test/cluster/image.test.ts runs this
# file's build step, installs what the runtime stage installs, and starts each role's CMD.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# ---- build: every dependency, TypeScript compiled to dist/, workflow bundles made ahead of time
FROM ${NODE_IMAGE} AS build
WORKDIR /src
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
# patches/ (patch-package, run by the postinstall script) must be there before npm ci.
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci
COPY . .
RUN npm run build

# ---- runtime: production dependencies only (no TypeScript, test tools or embedded PostgreSQL)
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false \
    ESCALATE_WORKFLOW_BUNDLE_DIR=/app/dist/workflow-bundles
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev && npm cache clean --force
# Owned by root, read-only for the runtime user.
COPY --from=build /src/dist ./dist
# Unprivileged (uid 1000, shipped with the node image).
USER node

# ---- worker: polls Temporal; Prometheus metrics and /healthz on ESCALATE_WORKER_METRICS_PORT
FROM runtime AS worker
ENV ESCALATE_WORKER_METRICS_PORT=9464
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "dist/scripts/healthcheck.js", "worker"]
CMD ["node", "dist/scripts/start-worker.js"]

# ---- api (the default target): HTTP on PORT, /healthz, /readyz, /metrics
FROM runtime AS api
ENV PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "dist/scripts/healthcheck.js", "api"]
CMD ["node", "dist/scripts/start-api.js"]
