#!/bin/sh
# The old tool's convenience, kept: install K3s with its official installer (https://get.k3s.io), then run
# k3s-fleet in it with deploy/k3s/setup.sh (MQTT credentials per node, then namespace, RBAC, config, a
# Mosquitto broker, the coordinator, the agent DaemonSet and an example workload). Run as root on the machine that becomes the K3s server:
#
#   sudo deploy/install-k3s.sh                         # install K3s (if missing) and apply deploy/k3s
#   sudo deploy/install-k3s.sh --images                # also build the k3s-fleet images with Docker and
#                                                      # import them into K3s's containerd
#   sudo INSTALL_K3S_VERSION=v1.31.4+k3s1 deploy/install-k3s.sh   # any INSTALL_K3S_* / K3S_* variable is
#                                                      # passed to the official installer
#   deploy/install-k3s.sh --dry-run                    # print what it would do
#
# The manifests name the images k3s-fleet/coordinator:<version> and k3s-fleet/agent:<version>. K3s has to
# find them: push them to a registry the cluster can pull from (and change the image names), or use --images
# on each node (a DaemonSet runs the agent everywhere). Not run in CI: it changes the machine for good
# (uninstall: /usr/local/bin/k3s-uninstall.sh).
set -eu

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DRY_RUN=0
IMAGES=0
SKIP_INSTALL=0
WITH_EXAMPLE=1
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --images) IMAGES=1 ;;
    --skip-install) SKIP_INSTALL=1 ;;
    --no-example) WITH_EXAMPLE=0 ;;
    -h | --help)
      sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
      echo "Options: --images, --skip-install (K3s already there), --no-example (skip 90-example-workload.yaml), --dry-run"
      exit 0 ;;
    *) echo "install-k3s.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { printf 'install-k3s.sh: %s\n' "$*" >&2; }
run() { if [ "$DRY_RUN" = 1 ]; then printf '+ %s\n' "$*"; else "$@"; fi; }
if [ "$DRY_RUN" = 0 ] && [ "$(id -u)" != 0 ]; then say "needs root (or --dry-run)"; exit 1; fi

# --- K3s -----------------------------------------------------------------------------------------------------
if [ "$SKIP_INSTALL" = 1 ] || command -v k3s >/dev/null; then
  say "K3s already installed ($(k3s --version 2>/dev/null | head -n1 || echo 'k3s'))"
else
  command -v curl >/dev/null || { say "curl is needed for the official K3s installer"; exit 1; }
  say "installing K3s with the official installer (https://get.k3s.io)"
  installer="$(mktemp)"
  run curl -sfL https://get.k3s.io -o "$installer"
  run sh "$installer"
  rm -f "$installer"
fi

kubectl() { k3s kubectl "$@"; }
if [ "$DRY_RUN" = 0 ]; then
  say "waiting for the node to be Ready"
  i=0
  until kubectl get nodes >/dev/null 2>&1; do
    i=$((i + 1)); [ "$i" -lt 60 ] || { say "the API server did not answer within 120s"; exit 1; }
    sleep 2
  done
  kubectl wait --for=condition=Ready node --all --timeout=180s
fi

# --- images ----------------------------------------------------------------------------------------------------
VERSION="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$ROOT/package.json" | head -n1)"
if [ "$IMAGES" = 1 ]; then
  command -v docker >/dev/null || { say "--images needs Docker to build the images"; exit 1; }
  for image in coordinator agent; do
    say "building k3s-fleet/$image:$VERSION and importing it into K3s"
    run docker build -f "$ROOT/deploy/docker/$image.Dockerfile" -t "k3s-fleet/$image:$VERSION" "$ROOT"
    if [ "$DRY_RUN" = 1 ]; then
      printf '+ docker save k3s-fleet/%s:%s | k3s ctr images import -\n' "$image" "$VERSION"
    else
      docker save "k3s-fleet/$image:$VERSION" | k3s ctr images import -
    fi
  done
fi

# --- deploy/k3s --------------------------------------------------------------------------------------------------
# deploy/k3s/setup.sh makes every node's (and the coordinator's) MQTT credentials and applies the manifests.
# It runs `kubectl`; K3s's own is used when no other is on PATH.
KUBECTL_DIR="$(mktemp -d)"
if ! command -v kubectl >/dev/null 2>&1; then
  printf '#!/bin/sh\nexec k3s kubectl "$@"\n' >"$KUBECTL_DIR/kubectl"
  chmod +x "$KUBECTL_DIR/kubectl"
fi
SETUP_ARGS=""
[ "$WITH_EXAMPLE" = 0 ] || SETUP_ARGS="--with-example"
if [ "$DRY_RUN" = 1 ]; then
  printf '+ %s\n' "deploy/k3s/setup.sh $SETUP_ARGS"
else
  # shellcheck disable=SC2086 # SETUP_ARGS is one optional word
  PATH="$KUBECTL_DIR:$PATH" sh "$ROOT/deploy/k3s/setup.sh" $SETUP_ARGS
fi
rm -rf "$KUBECTL_DIR"
if [ "$DRY_RUN" = 0 ]; then
  kubectl -n k3s-fleet rollout status deployment/k3s-fleet-coordinator --timeout=120s \
    || say "the coordinator is not running yet: kubectl -n k3s-fleet describe pods (images found? see --images)"
fi
say "done. Fleet report: k3s kubectl -n k3s-fleet logs deploy/k3s-fleet-coordinator -f"
