#!/usr/bin/env bash
# Checks deploy/install.sh and deploy/systemd without touching the machine: shellcheck on the shell scripts,
# a --dry-run, a real --agent-only install into a temporary DESTDIR (then the installed command must run
# `capture`, offer no coordinator, and have no node_modules: it is the bundled agent), and `systemd-analyze verify` on the installed units.
# Needs node >= 22.18 on PATH and the npm registry; shellcheck and systemd-analyze are used when present.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
log() { printf '[install] %s\n' "$*" >&2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

scripts=(deploy/install.sh deploy/install-k3s.sh deploy/docker/mosquitto-init.sh test/containers/*.sh .ci/containers.sh)
if command -v shellcheck >/dev/null; then
  log "shellcheck ${#scripts[@]} scripts"
  shellcheck -x "${scripts[@]}"
else
  log "shellcheck not installed (apt-get install shellcheck): skipped"
fi

log "install.sh --dry-run --coordinator"
deploy/install.sh --dry-run --coordinator --node "$(command -v node)" >"$tmp/dry-run.txt" 2>&1
grep -q '^+ write /etc/systemd/system/k3s-fleet-coordinator.service' "$tmp/dry-run.txt"

log "install.sh --agent-only --destdir $tmp/root"
deploy/install.sh --destdir "$tmp/root" --agent-only --node "$(command -v node)" >"$tmp/install.txt" 2>&1 \
  || { cat "$tmp/install.txt" >&2; exit 1; }
app="$tmp/root/opt/k3s-fleet"
[ -x "$tmp/root/usr/local/bin/k3s-fleet" ]
[ -f "$tmp/root/etc/k3s-fleet/config.yaml" ] && [ -f "$tmp/root/etc/k3s-fleet/agent.env" ]
[ -f "$tmp/root/usr/lib/sysusers.d/k3s-fleet.conf" ]
[ -f "$tmp/root/etc/systemd/system/k3s-fleet-agent.service" ]
[ ! -e "$tmp/root/etc/systemd/system/k3s-fleet-coordinator.service" ]
[ ! -e "$app/node_modules" ] || { log "agent-only install has node_modules (it is one bundled file)"; exit 1; }
# The command runs the bundle at its final place (/opt/...); here it is staged under DESTDIR.
grep -q 'exec .* --lite-mode "/opt/k3s-fleet/dist/k3s-fleet-agent.mjs"' "$tmp/root/usr/local/bin/k3s-fleet"
staged() { sed "s#/opt/k3s-fleet#$app#" "$tmp/root/usr/local/bin/k3s-fleet" | sh -s -- "$@"; }
(cd "$tmp" && staged capture --json --node-name install-check) | grep -q '"nodeId":"install-check"'
if staged coordinator >/dev/null 2>&1; then log "agent-only CLI offers the coordinator"; exit 1; fi
log "installed agent runs capture; the application is $(du -sh "$app" | cut -f1) (Node.js not counted: --node)"

# A rerun (an upgrade) replaces the application but keeps the configuration.
deploy/install.sh --dry-run --destdir "$tmp/root" --agent-only --node "$(command -v node)" >"$tmp/rerun.txt" 2>&1
grep -q "^+ cp -R $ROOT/dist/k3s-fleet-agent.mjs " "$tmp/rerun.txt"
if grep -Eq '^\+ .*etc/k3s-fleet/(config.yaml|agent.env)' "$tmp/rerun.txt"; then log "a rerun would overwrite /etc/k3s-fleet"; exit 1; fi

if command -v systemd-analyze >/dev/null; then
  # verify wants ExecStart's binary to exist: point the units at the staged command.
  mkdir -p "$tmp/verify"
  for unit in deploy/systemd/*.service; do
    sed "s#/usr/local/bin/k3s-fleet#$tmp/root/usr/local/bin/k3s-fleet#" "$unit" >"$tmp/verify/$(basename "$unit")"
  done
  (cd "$tmp/verify" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no ./*.service)
  log "systemd-analyze verify: units OK"
else
  log "systemd-analyze not found: unit verification skipped"
fi
log "passed"
