#!/usr/bin/env bash
# Builds the real Kubernetes components the real-API-server tests run (test/real-apiserver/): kube-apiserver
# and kubectl (k8s.io/kubernetes), etcd (go.etcd.io/etcd/server/v3) and kwok (sigs.k8s.io/kwok), each from
# the small Go module under test/kube/<name>/ that pins its version. No Kubernetes source is committed: the
# ordinary `go` client fetches the modules (checked against go.sum) and builds them for this machine.
#
# Output: .cache/kube/bin/{kube-apiserver,kubectl,etcd,kwok} (or $K3SF_KUBE_DIR/bin), plus build-info.txt with
# the versions, seconds per component and sizes. Idempotent: a component is skipped when its binary exists
# and was built from the same go.mod + go.sum (+ this script, Go version and platform). Usage:
#   scripts/build-kube.sh            # build what is missing or out of date
#   scripts/build-kube.sh --force    # rebuild everything
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${K3SF_KUBE_DIR:-$root/.cache/kube}"
force=0
[ "${1:-}" = "--force" ] && force=1

if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then export PATH="$PATH:/usr/local/go/bin"; fi
if ! command -v go >/dev/null; then
  echo "build-kube: no Go toolchain (go not on PATH, nor /usr/local/go/bin/go)" >&2
  exit 1
fi

# Two cores on these machines: keep the compiler to them, the rest of the box is shared.
export GOMAXPROCS="${GOMAXPROCS:-2}"
export GOFLAGS="-trimpath -mod=readonly -buildvcs=false"
mkdir -p "$out/bin" "$out/stamps"

# component  module-dir  package
components=(
  "kube-apiserver apiserver k8s.io/kubernetes/cmd/kube-apiserver"
  "kubectl apiserver k8s.io/kubernetes/cmd/kubectl"
  "etcd etcd go.etcd.io/etcd/server/v3"
  "kwok kwok sigs.k8s.io/kwok/cmd/kwok"
)

stamp_of() { # the inputs that decide a binary's content
  local dir="$root/test/kube/$1"
  cat "$dir/go.mod" "$dir/go.sum" "$root/scripts/build-kube.sh" | sha256sum | cut -c1-64
  go env GOVERSION GOOS GOARCH
}

total_start=$(date +%s)
built=()
for entry in "${components[@]}"; do
  read -r name module package <<<"$entry"
  bin="$out/bin/$name"
  want="$(stamp_of "$module")"
  if [ "$force" = 0 ] && [ -x "$bin" ] && [ "$(cat "$out/stamps/$name" 2>/dev/null)" = "$want" ]; then
    echo "build-kube: $name is current ($bin)"
    continue
  fi
  echo "build-kube: building $name from test/kube/$module ($package)"
  start=$(date +%s)
  ldflags="-s -w"
  if [ "$module" = apiserver ]; then
    # What Kubernetes' own build stamps in (hack/lib/version.sh), so /version and `kubectl version` tell the
    # release instead of v0.0.0-master. Only the link step sees -X: cached packages are reused.
    v="$(cd "$root/test/kube/$module" && go list -m -f '{{.Version}}' k8s.io/kubernetes)"
    minor="${v#v1.}"
    minor="${minor%%.*}"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
    done
  fi
  (cd "$root/test/kube/$module" && go build -p "$GOMAXPROCS" -ldflags="$ldflags" -o "$bin.tmp" "$package")
  mv "$bin.tmp" "$bin"
  printf '%s\n' "$want" >"$out/stamps/$name"
  seconds=$(($(date +%s) - start))
  echo "build-kube: $name built in ${seconds}s, $(du -m "$bin" | cut -f1) MiB"
  built+=("$name ${seconds}s")
done

# kwok ships its default behaviour (node-initialize, lease heartbeats, pod ready/complete/delete) as Stage
# YAML in its module rather than compiled in; the tests hand kwok that file, taken from the module just built.
kwok_dir="$(cd "$root/test/kube/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
for f in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
  pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
  cat "$kwok_dir/kustomize/stage/$f.yaml"
  echo "---"
done >"$out/kwok-stages.yaml"

{
  echo "# written by scripts/build-kube.sh $(date -u +%FT%TZ)"
  echo "go $(go env GOVERSION) $(go env GOOS)/$(go env GOARCH), GOMAXPROCS=$GOMAXPROCS"
  for entry in "${components[@]}"; do
    read -r name module _ <<<"$entry"
    version="$("$out/bin/$name" --version 2>/dev/null | head -1 || true)"
    [ -n "$version" ] || version="$("$out/bin/$name" version --client 2>/dev/null | head -1 || true)"
    echo "$name $(du -m "$out/bin/$name" | cut -f1) MiB ${version}"
  done
  [ "${#built[@]}" -gt 0 ] && echo "built this run: ${built[*]} (total $(($(date +%s) - total_start))s)"
} >"$out/build-info.txt"
cat "$out/build-info.txt"
