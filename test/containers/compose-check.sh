#!/usr/bin/env bash
# docker-compose.yml for real: it must parse (`config`), start, and within a bounded time the coordinator's
# logs must show a fleet report with both agents ONLINE and its health check must pass; then everything is
# removed (`down -v`). Uses Debian's docker-compose v1 when present, else `docker compose` (v2).
# The images must exist (build-images.sh, build-base-images.sh). Free loopback ports are chosen so a broker
# already on 1883 does not matter.
#   test/containers/compose-check.sh        (env: DOCKER_HOST, K3SF_COMPOSE_TIMEOUT seconds, default 90)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PROJECT="k3sf-check-$$"
TIMEOUT="${K3SF_COMPOSE_TIMEOUT:-90}"
log() { printf '[compose] %s\n' "$*" >&2; }

if command -v docker-compose >/dev/null; then compose=(docker-compose); else compose=(docker compose); fi
free_port() { node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'; }
K3SF_MQTT_PORT="$(free_port)"
K3SF_HTTP_PORT="$(free_port)"
export K3SF_MQTT_PORT K3SF_HTTP_PORT
dc() { timeout 120 "${compose[@]}" -p "$PROJECT" -f docker-compose.yml "$@"; }

log "${compose[*]} config ($("${compose[@]}" version --short 2>/dev/null || true))"
dc config -q
services="$(dc config --services | sort | tr '\n' ' ')"
[ "$services" = "agent-1 agent-2 broker coordinator " ] || { log "unexpected services: $services"; exit 1; }

cleanup() {
  local status=$?
  if [ "$status" != 0 ]; then
    log "failed; last logs:"
    dc logs --no-color --tail=40 >&2 || true
  fi
  dc down -v --remove-orphans >/dev/null 2>&1 || true
  exit "$status"
}
trap cleanup EXIT

log "up -d (mqtt 127.0.0.1:$K3SF_MQTT_PORT, http 127.0.0.1:$K3SF_HTTP_PORT)"
dc up -d --no-build 2>&1 | sed 's/^/[compose]   /' >&2
deadline=$(($(date +%s) + TIMEOUT))
until logs="$(dc logs --no-color coordinator 2>/dev/null)" \
  && grep -Eq 'edge-01 +ONLINE +cpu [0-9]' <<<"$logs" && grep -Eq 'edge-02 +ONLINE +cpu [0-9]' <<<"$logs"; do
  if [ "$(date +%s)" -gt "$deadline" ]; then log "no report with edge-01 and edge-02 ONLINE within ${TIMEOUT}s"; exit 1; fi
  sleep 2
done
log "fleet report in the coordinator's logs:"
grep -E 'Total Nodes|edge-0[12] +ONLINE' <<<"$logs" | tail -n 3 | sed 's/^/[compose]   /' >&2

# The image's HEALTHCHECK (GET /healthz on http.listen) must turn healthy.
container="$(dc ps -q coordinator)"
until [ "$(docker inspect -f '{{.State.Health.Status}}' "$container" 2>/dev/null)" = healthy ]; do
  if [ "$(date +%s)" -gt "$deadline" ]; then
    log "coordinator not healthy within ${TIMEOUT}s: $(docker inspect -f '{{json .State.Health}}' "$container")"
    exit 1
  fi
  # Docker probes every 30 s; run the same probe now rather than wait for the first one.
  docker exec "$container" node /app/deploy/docker/healthcheck.js >/dev/null 2>&1 && break
  sleep 2
done
log "coordinator healthy; down -v"
