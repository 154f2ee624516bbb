# Local stand-in for the official node:24-bookworm-slim, for machines that cannot pull images (CI here).
# Built by test/containers/build-base-images.sh from a debootstrap'd Debian bookworm (tagged
# debian:bookworm-slim) plus the official Node.js 24 binary and npm, both from the npm registry.
# Same layout as the official image where the project relies on it: node, npm and npx in /usr/local/bin,
# a `node` user with uid 1000.
# One local difference: it trusts the building machine's CA bundle (NODE_EXTRA_CA_CERTS), so `npm ci` inside
# image builds works behind a TLS-intercepting proxy the way it does on the host.
FROM debian:bookworm-slim
COPY host-ca.crt /usr/local/share/k3sf-host-ca.crt
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/k3sf-host-ca.crt
RUN groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
CMD ["node"]
