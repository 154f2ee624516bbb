# k3s-fleet agent image: `agent` and `capture` only. It has no Kubernetes client, no embedded broker and no
# metrics library (nor the coordinator sources that use them). Build from the repository root:
#   docker build -f deploy/docker/agent.Dockerfile -t k3s-fleet/agent:0.1.0 .
# Run (host networking so it sees the machine's interfaces, routes and VPN tunnels):
#   docker run -d --network host -e NODE_NAME=edge-01 -e K3S_FLEET_BROKER_URL=mqtts://broker:8883 \
#     -e K3S_FLEET_BROKER_USERNAME=edge-01 -e K3S_FLEET_BROKER_PASSWORD=... -v k3sf-agent:/var/lib/k3s-fleet \
#     k3s-fleet/agent:0.1.0
# Node runs the TypeScript sources directly (type stripping), so there is no build stage: the first stage
# only installs the production dependencies the agent needs, the second is the runtime.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS deps
# Production dependencies only the coordinator side uses. They are dropped from package.json and pruned
# from the lockfile's tree, so whatever only they pull in goes too.
ARG COORDINATOR_ONLY_DEPENDENCIES="@kubernetes/client-node aedes prom-client"
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --no-update-notifier \
 && node -e ' \
      const fs = require("node:fs"); \
      const pkg = JSON.parse(fs.readFileSync("package.json", "utf8")); \
      for (const name of process.argv.slice(1)) delete pkg.dependencies[name]; \
      delete pkg.devDependencies; \
      fs.writeFileSync("package.json", JSON.stringify(pkg, null, 2) + "\n");' \
      ${COORDINATOR_ONLY_DEPENDENCIES} \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund --no-update-notifier \
 && find node_modules -mindepth 1 -maxdepth 1 -name '@*' -type d -empty -delete \
 && test ! -e node_modules/@kubernetes \
 && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# Same uid/gid as deploy/k3s (runAsUser: 10001). The working directory is the state directory, so the
# default agent.stateDir (./data) lands on the writable volume and the root file system can be read-only.
RUN groupadd --system --gid 10001 k3sfleet \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/k3s-fleet --no-create-home \
      --shell /usr/sbin/nologin k3sfleet \
 && mkdir -p /var/lib/k3s-fleet /etc/k3s-fleet \
 && chown 10001:10001 /var/lib/k3s-fleet
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
# The pruned package.json, so it matches node_modules (the version is the same).
COPY --from=deps /app/package.json ./package.json
COPY bin ./bin
COPY cli ./cli
COPY config ./config
COPY proto ./proto
COPY common ./common
COPY mqtt ./mqtt
COPY agent ./agent
# What the image runs: the agent bundled into one file (scripts/build-agent.ts; issue 14), with the V8 flags
# bench/agent-footprint.bench.ts measured. The sources above stay for `node /app/bin/k3s-fleet.js`.
COPY dist/k3s-fleet-agent.mjs ./k3s-fleet-agent.mjs
COPY dist/k3s-fleet-agent.mjs.LEGAL.txt ./k3s-fleet-agent.mjs.LEGAL.txt
USER 10001:10001
WORKDIR /var/lib/k3s-fleet
VOLUME ["/var/lib/k3s-fleet"]
# The agent serves nothing to probe; if it dies the container exits and the restart policy (or the
# DaemonSet) restarts it. Connectivity problems are visible in the coordinator's report (stale/offline).
HEALTHCHECK NONE
ENTRYPOINT ["node", "--max-semi-space-size=1", "--lite-mode", "/app/k3s-fleet-agent.mjs"]
CMD ["agent"]
