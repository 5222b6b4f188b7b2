# syntax=docker/dockerfile:1
# Multi-stage: compile TypeScript with the dev toolchain, then run the compiled
# JavaScript on production dependencies only, as the unprivileged node user.
#
# The Db2 driver stays out by default: ibm_db's native addon needs python3, a
# compiler and IBM's CLI driver (clidriver), none of which the slim base has,
# so such an image answers DB_URL=db2://… with one line saying what is missing.
# Build it in (linux/amd64; BuildKit, the default builder since Docker 23):
#   docker build --build-arg DB2=true -t host-session-api .
#     downloads the clidriver from IBM, or from IBM_DB_INSTALLER_URL (a mirror
#     serving linuxx64_odbc_cli.tar.gz);
#   docker build --build-arg DB2=true --build-context db2-clidriver=./vendor/db2 -t host-session-api .
#     takes linuxx64_odbc_cli.tar.gz from that folder, with no download.

# The clidriver tarball an operator gives with --build-context db2-clidriver=<folder>,
# which replaces this stage; by default a placeholder, so the build stage's mount has a source.
FROM scratch AS db2-clidriver
COPY package.json /no-clidriver-given

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY client/package.json ./client/
# Scripts off: the workspace's prepare (the client build) needs the sources,
# copied below; ibm_db's install script is run on its own, below, when asked for.
RUN npm ci --no-audit --no-fund --ignore-scripts
# DB2=true: build ibm_db's addon against IBM's clidriver (its install script,
# installer/driverInstall.js, run by npm 10, which node 20 ships), and prove the
# result loads. The addon finds the clidriver in node_modules/ibm_db/installer/clidriver.
ARG DB2=false
ARG IBM_DB_INSTALLER_URL=
ARG CLIDRIVER_DOWNLOAD_VERSION=
RUN --mount=type=bind,from=db2-clidriver,target=/tmp/db2-clidriver <<'EOF'
set -eu
[ "$DB2" = true ] || exit 0
apt-get update
apt-get install -y --no-install-recommends python3 make g++ libxml2
if ls /tmp/db2-clidriver/*_odbc_cli.tar.gz >/dev/null 2>&1; then IBM_DB_INSTALLER_URL=/tmp/db2-clidriver; fi
IBM_DB_INSTALLER_URL="$IBM_DB_INSTALLER_URL" CLIDRIVER_DOWNLOAD_VERSION="$CLIDRIVER_DOWNLOAD_VERSION" \
  npm rebuild ibm_db --foreground-scripts
test -f node_modules/ibm_db/build/Release/odbc_bindings.node
test -d node_modules/ibm_db/installer/clidriver/lib
node -e "require('ibm_db')"
EOF
COPY tsconfig.json tsconfig.build.json ./
COPY app ./app
COPY auth ./auth
COPY contract ./contract
COPY db ./db
COPY routes ./routes
COPY client ./client
COPY scripts/build.mjs ./scripts/
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ARG DB2=false
# IBM's libdb2.so needs libxml2, which the slim base lacks.
RUN if [ "$DB2" = true ]; then apt-get update && apt-get install -y --no-install-recommends libxml2 && rm -rf /var/lib/apt/lists/*; fi
# DB2CODEPAGE: the CLI would otherwise convert text through the locale's code
# page, ISO 8859-1 here (no LANG), and store é as "Ã©". The driver sets it too.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DB2CODEPAGE=1208
WORKDIR /app
COPY package.json package-lock.json ./
COPY client/package.json ./client/
# Production dependencies only: no TypeScript, no tsx.
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
# ibm_db as the build stage left it: with DB2=true, its addon (build/Release) and
# IBM's clidriver (installer/clidriver); otherwise the same JavaScript npm ci just
# installed, without an addon.
COPY --from=build /app/node_modules/ibm_db ./node_modules/ibm_db
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
