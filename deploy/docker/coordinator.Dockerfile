# k3s-fleet coordinator image. Build from the repository root:
#   docker build -f deploy/docker/coordinator.Dockerfile -t k3s-fleet/coordinator:0.1.0 .
# Run (standalone, against a broker on this host):
#   docker run --rm --network host -e K3S_FLEET_BROKER_URL=mqtt://127.0.0.1:1883 \
#     -e K3S_FLEET_K3S_STANDALONE=true k3s-fleet/coordinator:0.1.0
# Node runs the TypeScript sources directly (type stripping), so there is no build stage: the first stage
# only installs the production dependencies, the second is the runtime.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No dependency needs an install script; --ignore-scripts keeps it that way.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --no-update-notifier \
 && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# Same uid/gid as deploy/k3s (runAsUser: 10001). The working directory is the state directory, so relative
# paths in the config (agent.stateDir ./data, report output, log file) land on the writable volume and the
# root file system can be read-only.
RUN groupadd --system --gid 10001 k3sfleet \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/k3s-fleet --no-create-home \
      --shell /usr/sbin/nologin k3sfleet \
 && mkdir -p /var/lib/k3s-fleet /etc/k3s-fleet \
 && chown 10001:10001 /var/lib/k3s-fleet
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY cli ./cli
COPY config ./config
COPY proto ./proto
COPY common ./common
COPY mqtt ./mqtt
COPY agent ./agent
COPY coordinator ./coordinator
# `k3s-fleet simulate`: a virtual fleet for demos and load tests.
COPY simulator ./simulator
COPY deploy/docker/healthcheck.js ./deploy/docker/healthcheck.js
USER 10001:10001
WORKDIR /var/lib/k3s-fleet
VOLUME ["/var/lib/k3s-fleet"]
# MQTT for `coordinator --embedded-broker 0.0.0.0:1883`; HTTP endpoints when http.listen is 0.0.0.0:9464.
EXPOSE 1883 9464
# GET /healthz on http.listen (K3S_FLEET_HTTP_LISTEN; default 127.0.0.1:9464; "off" always passes).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/app/deploy/docker/healthcheck.js"]
ENTRYPOINT ["node", "/app/bin/k3s-fleet.js"]
CMD ["coordinator"]
