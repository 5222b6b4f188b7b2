# syntax=docker/dockerfile:1
# Multi-stage: compile TypeScript with the dev toolchain, then run the compiled
# JavaScript on production dependencies only, as the unprivileged node user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY app ./app
COPY auth ./auth
COPY db ./db
COPY routes ./routes
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
# ibm_db is optional: where its install script cannot download IBM's CLI
# driver the install goes on without it, and only DB_URL=db2://... needs it.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=4s --start-period=30s --retries=3 CMD ["node", "dist/app/healthcheck.js"]
# SIGTERM drains in-flight requests (SHUTDOWN_GRACE_SECONDS) and exits 0.
STOPSIGNAL SIGTERM
CMD ["node", "dist/app/server.js"]
