# syntax=docker/dockerfile:1
# Multi-stage: compile TypeScript with the dev toolchain, then run the compiled
# JavaScript on production dependencies only, as the unprivileged node user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY client/package.json ./client/
# Scripts off: the workspace's prepare (the client build) needs the sources,
# copied below; ibm_db's install script would download IBM's driver.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY app ./app
COPY auth ./auth
COPY db ./db
COPY routes ./routes
COPY client ./client
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
COPY client/package.json ./client/
# Production dependencies only: no TypeScript, no tsx. ibm_db is optional:
# where its install script cannot download IBM's CLI driver it stays out, and
# only DB_URL=db2://... needs it (build an image with it where the download works).
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
# The embedded host's pre-initialised cluster: a new pglite: data folder is
# copied from it instead of running initdb (seconds off the first start).
RUN node dist/db/pg/template-cli.js
USER node
EXPOSE 8080 9464
HEALTHCHECK --interval=10s --timeout=4s --start-period=30s --retries=3 CMD ["node", "dist/app/healthcheck.js"]
# SIGTERM drains in-flight requests (SHUTDOWN_GRACE_SECONDS) and exits 0.
STOPSIGNAL SIGTERM
CMD ["node", "dist/app/server.js"]
