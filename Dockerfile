# syntax=docker/dockerfile:1
# The ssehub hub as a container image (docs/deployment.md):
#   docker build -t ssehub .
#   docker run -d --name ssehub -p 3000:3000 -v ssehub-data:/data \
#     -e SSEHUB_JWT_KEY=… --stop-timeout 30 ssehub

# Build: every dependency (TypeScript, esbuild), compile, then drop the dev dependencies.
FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles from source when no prebuilt binary matches.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
# The web console's browser code, which npm run build bundles into dist/console.
COPY ui ./ui
RUN npm run build && npm prune --omit=dev

# Run: the same base (the native SQLite module was built against it), no compilers, not root.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    SSEHUB_PORT=3000 \
    SSEHUB_DEMO=0 \
    SSEHUB_TRANSPORT=sqlite:/data/hub.db
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Served at /openapi.json (src/server/openapi.ts reads it next to dist/).
COPY docs/openapi.json ./docs/openapi.json
# The image's "node" user (uid 1000) owns the volume holding the SQLite history.
RUN mkdir /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SSEHUB_PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM drains (docs/server.md, Shutdown): give it --drain-delay + --shutdown-grace + 5s
# (docker stop -t / --stop-timeout, compose stop_grace_period; Docker's default is 10s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve"]
