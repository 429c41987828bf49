# escalate: one image for both production processes.
#   API:    docker run … escalate                      (default: npm run start:api, port 8080)
#   Worker: docker run … escalate npm run start:worker
# Both are stateless; they need DATABASE_URL, TEMPORAL_ADDRESS, ESCALATE_SECRET_KEY (and the API
# ESCALATE_API_KEYS). See docker-compose.yml for the whole stack.
FROM node:20-bookworm-slim

ENV NODE_ENV=production \
    PORT=8080 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

WORKDIR /app

# Dependencies first, so a source change does not reinstall them. The TypeScript sources run
# through tsx, which is a regular dependency: --omit=dev keeps it and drops typescript, vitest,
# biome and drizzle-kit (migrations are applied at start by drizzle-orm's migrator).
# patches/ (patch-package, applied by the postinstall script) must be there before npm ci.
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev && npm cache clean --force

# Sources (see .dockerignore). Owned by root and read-only for the runtime user.
COPY . .

# Unprivileged runtime user (uid 1000, shipped with the node image); tsx caches in /tmp.
USER node

EXPOSE 8080

# The worker serves no HTTP: docker-compose.yml disables this check for it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["npm", "run", "start:api"]
