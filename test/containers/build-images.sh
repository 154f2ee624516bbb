#!/usr/bin/env bash
# Builds the project images from deploy/docker/ (context: the repository root) and prints their sizes.
#   test/containers/build-images.sh            tags k3s-fleet/{coordinator,agent}:<package.json version> and :latest
# The builds use host networking (--network host) so `npm ci` reaches the registry on engines that have no
# bridge network (dockerd --bridge=none, as in CI here); elsewhere it makes no difference.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
VERSION="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json | head -n1)"
for image in coordinator agent; do
  start=$(date +%s)
  echo "[images] building k3s-fleet/$image:$VERSION" >&2
  docker build -q --network host -f "deploy/docker/$image.Dockerfile" \
    -t "k3s-fleet/$image:$VERSION" -t "k3s-fleet/$image:latest" . >/dev/null
  echo "[images] k3s-fleet/$image:$VERSION built in $(($(date +%s) - start))s," \
    "$(docker image inspect -f '{{.Size}}' "k3s-fleet/$image:$VERSION" | awk '{printf "%.1f MB", $1 / 1e6}')" >&2
done
