#!/usr/bin/env node
// Entry point. Node >= 22.18 runs the TypeScript sources directly (type stripping), so there is no build step.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`k3s-fleet needs Node.js >= 22.18 (24 LTS recommended); this is ${process.version}\n`);
  process.exit(1);
}
const { main } = await import("../cli/main.ts");
await main(process.argv);
