# The timeline service as a container image. `docker compose up` builds it and runs it
# against KurrentDB; on its own it runs on the embedded SQLite store in /app/data.
#
#   docker build -t timeline-service .
#   docker run -p 3000:3000 -e API_KEYS='desk:editor:<a key of 16+ characters>' timeline-service
#
# The image sets NODE_ENV=production, so the service refuses to start without API_KEYS
# or API_KEYS_FILE (see README, Security).

# The Node that CI runs the acceptance suite on (.ci/run: node@24 from the npm registry).
ARG NODE_VERSION=24.21.0
# The npm the lockfile and package.json's allowScripts are written for (older npms
# ignore allowScripts and would run every install script).
ARG NPM_VERSION=11.19.1

# Build stage: the dev toolchain compiles the TypeScript; better-sqlite3 is native
# and compiles here too, against the same Debian and Node as the runtime stage.
FROM node:${NODE_VERSION}-bookworm-slim AS build
ARG NPM_VERSION
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
RUN npm install -g npm@${NPM_VERSION}
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json nest-cli.json .swcrc ./
COPY apps ./apps
COPY libs ./libs
# Compiles both apps (the service and the CLI) with SWC and .swcrc, the compiler the
# tests use, copies the live page's assets (nest-cli.json) and builds its browser client
# (libs/client/build-browser.ts, which needs TypeScript: a dev dependency); then drops the dev
# dependencies, keeping the compiled natives. CI proves this layout: the acceptance
# suite runs against such a production-only install (.ci/production-install).
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Runtime stage: production dependencies, the compiled code and the seeds, nothing else.
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/data \
    SEED_DIR=/app/seeds
WORKDIR /app
COPY --chown=node:node package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node seeds ./seeds
# The data directory belongs to the unprivileged user; a named volume mounted
# here takes over this ownership the first time it is used.
RUN mkdir -p /app/data && chown node:node /app/data
# The official node image's non-root user (uid 1000).
USER node
EXPOSE 3000
# Liveness only: /health/live answers while the process serves HTTP. Slim images
# have no curl, so node asks (fetch is built into Node).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node itself is PID 1: the service handles SIGTERM (docker stop) by telling live
# clients to reconnect elsewhere, draining, and exiting 0.
CMD ["node", "dist/apps/timeline-service/src/main.js"]
