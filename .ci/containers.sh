#!/usr/bin/env bash
# Deployment checks (issue 7), called by .ci/run after the unit tests; also runnable alone:
#   .ci/containers.sh
# 1. deploy/install.sh and deploy/systemd, without touching the machine (test/containers/install-check.sh).
# 2. With a Docker engine (an existing one, else Debian's docker.io started here with --bridge=none,
#    host networking only): base images (pulled, or built locally where no registry is reachable:
#    test/containers/build-base-images.sh), the project images (deploy/docker), the testcontainers test
#    (test/containers/fleet.containers.test.ts), and docker-compose.yml (config, bounded up, report, down).
#    Where no engine can be started the container part is skipped with the reason.
# Prints one last line: "containers: PASSED ...", "containers: SKIPPED ... (reason)" or "containers: FAILED ...".
# Exit status 0 when passed or skipped, 1 when failed; K3SF_REQUIRE_DOCKER=1 turns a skip into a failure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export DEBIAN_FRONTEND=noninteractive
START=$(date +%s)
WORK="$(mktemp -d)"
OWN_DOCKERD=""
PRIVATE_SOCK=/run/k3sf-docker.sock
step() { printf -- '--- %s (%ss)\n' "$*" "$(($(date +%s) - START))"; }

finish() { # finish passed|skipped|failed MESSAGE
  local outcome="$1" message="$2"
  stop_dockerd
  rm -rf "$WORK"
  local took="$(($(date +%s) - START))s"
  case "$outcome" in
    passed) echo "containers: PASSED: $message in $took"; exit 0 ;;
    skipped)
      if [ -n "${K3SF_REQUIRE_DOCKER:-}" ]; then echo "containers: FAILED (K3SF_REQUIRE_DOCKER=1): $message"; exit 1; fi
      echo "containers: SKIPPED: $message (after ${took})"; exit 0 ;;
    *) echo "containers: FAILED: $message after $took"; exit 1 ;;
  esac
}

stop_dockerd() {
  [ -n "$OWN_DOCKERD" ] || return 0
  local pid="$OWN_DOCKERD"
  OWN_DOCKERD=""
  step "stopping the Docker engine started here (pid $pid)"
  docker -H "unix://$PRIVATE_SOCK" ps -q 2>/dev/null | xargs -r docker -H "unix://$PRIVATE_SOCK" rm -f >/dev/null 2>&1
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || return 0; sleep 1; done
  kill -KILL "$pid" 2>/dev/null || true
}
trap 'finish failed "interrupted"' INT TERM

echo "--- node 24"
# shellcheck source=SCRIPTDIR/../scripts/use-node24.sh
source scripts/use-node24.sh

# --- 1. install script and systemd units ---------------------------------------------------------------------
step "debian packages for the checks (shellcheck, systemd-analyze)"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && ! command -v shellcheck >/dev/null; then
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq --no-install-recommends shellcheck >/dev/null 2>&1 || echo "(shellcheck not installable: skipped)"
fi
step "install.sh and systemd units"
test/containers/install-check.sh || finish failed "install/systemd checks (test/containers/install-check.sh)"

# --- 2. a Docker engine ----------------------------------------------------------------------------------------
engine_up() { timeout 10 docker info >/dev/null 2>&1; }
step "Docker engine"
if [ -n "${DOCKER_HOST:-}" ] && engine_up; then
  echo "using the engine at DOCKER_HOST=$DOCKER_HOST"
elif [ -z "${DOCKER_HOST:-}" ] && [ -S /var/run/docker.sock ] && engine_up; then
  echo "using the engine at /var/run/docker.sock"
else
  [ "$(id -u)" = 0 ] || finish skipped "no Docker engine reachable, and starting one needs root"
  if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
    step "apt-get install docker.io"
    { apt-get update -qq && timeout 600 apt-get install -y -qq --no-install-recommends docker.io; } >"$WORK/apt.log" 2>&1 \
      || finish skipped "cannot install docker.io: $(tail -n 1 "$WORK/apt.log")"
  fi
  export DOCKER_HOST="unix://$PRIVATE_SOCK"
  if engine_up; then
    echo "reusing the engine already on $PRIVATE_SOCK"
  else
    # A private engine: own socket, state and exec roots, no bridge network or iptables (containers use the
    # host's network). Its image store stays in /var/lib/k3sf-docker, so reruns reuse the built images.
    if [ -f /run/k3sf-docker.pid ] && ! kill -0 "$(cat /run/k3sf-docker.pid)" 2>/dev/null; then rm -f /run/k3sf-docker.pid; fi
    dockerd --bridge=none --iptables=false --ip6tables=false -H "$DOCKER_HOST" \
      --data-root /var/lib/k3sf-docker --exec-root /run/k3sf-docker --pidfile /run/k3sf-docker.pid \
      >"$WORK/dockerd.log" 2>&1 &
    OWN_DOCKERD=$!
    for _ in $(seq 1 60); do
      engine_up && break
      kill -0 "$OWN_DOCKERD" 2>/dev/null || break
      sleep 1
    done
    if ! engine_up; then
      reason="$(grep -E 'level=(fatal|error)|failed to start' "$WORK/dockerd.log" | tail -n 1 | sed 's/.*msg="\([^"]*\)".*/\1/')"
      kill -0 "$OWN_DOCKERD" 2>/dev/null || OWN_DOCKERD=""
      finish skipped "the Docker engine did not start: ${reason:-no answer within 60s}"
    fi
    echo "started dockerd (pid $OWN_DOCKERD) on $DOCKER_HOST"
  fi
fi
docker version --format 'engine {{.Server.Version}}, API {{.Server.APIVersion}}' 2>/dev/null || true

# --- 3. images -------------------------------------------------------------------------------------------------
missing=()
for tool in debootstrap docker-compose; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ "${#missing[@]}" -gt 0 ] && [ "$(id -u)" = 0 ]; then
  step "apt-get install ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$WORK/apt2.log" 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >>"$WORK/apt2.log" 2>&1 \
    || echo "(could not install ${missing[*]}: $(tail -n 1 "$WORK/apt2.log"))"
fi
step "base images (node:24-bookworm-slim, eclipse-mosquitto:2)"
timeout 900 test/containers/build-base-images.sh || finish failed "base images (test/containers/build-base-images.sh)"
step "project images (deploy/docker)"
timeout 900 test/containers/build-images.sh || finish failed "project images (test/containers/build-images.sh)"

# --- 4. testcontainers -----------------------------------------------------------------------------------------
step "testcontainers test"
if [ ! -f node_modules/testcontainers/package.json ]; then
  # Until it is a devDependency: installed for this run only.
  npm install --no-save --no-audit --no-fund --loglevel=error testcontainers@^12.2.0 >/dev/null \
    || finish failed "npm install testcontainers"
fi
# Ryuk (the reaper container) would have to be pulled; the containers are stopped by the test (and with the
# engine). The host override skips the bridge-network gateway lookup, which fails without a bridge.
K3SF_CONTAINERS=1 TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 \
  timeout 600 npx vitest run test/containers/fleet.containers.test.ts --reporter=default \
  || finish failed "testcontainers test (test/containers/fleet.containers.test.ts)"

# --- 5. docker-compose.yml ---------------------------------------------------------------------------------------
step "docker-compose.yml"
timeout 300 test/containers/compose-check.sh || finish failed "docker-compose.yml (test/containers/compose-check.sh)"

# --- 6. sizes ----------------------------------------------------------------------------------------------------
step "image sizes"
version="$(node -p 'require("./package.json").version')"
for image in "k3s-fleet/coordinator:$version" "k3s-fleet/agent:$version" node:24-bookworm-slim eclipse-mosquitto:2; do
  docker image inspect -f '{{.Size}}' "$image" 2>/dev/null | awk -v i="$image" '{printf "  %-30s %6.1f MB\n", i, $1 / 1e6}'
done
# Old untagged images only: the deps stages of this build stay as the cache for the next one.
docker image prune -f --filter until=168h >/dev/null 2>&1 || true
finish passed "install/systemd checks, images built, testcontainers test, docker-compose up"
