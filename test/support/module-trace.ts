// Preloaded with `node --import` to record which packages a process loads. Every module URL the process
// resolves under node_modules is written, one a line, to the file named by K3SF_MODULE_TRACE when the
// process exits. Used to prove what a code path never loads (a standalone coordinator: no Kubernetes
// client), which neither lint nor types can: a value import through a barrel loads the whole barrel.
import { writeFileSync } from "node:fs";
import { registerHooks } from "node:module";

const file = process.env.K3SF_MODULE_TRACE;
if (!file) throw new Error("module-trace: set K3SF_MODULE_TRACE to the output file");
const seen = new Set<string>();
registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context);
    if (resolved.url.includes("/node_modules/")) seen.add(resolved.url);
    return resolved;
  },
});
process.on("exit", () => writeFileSync(file, [...seen].join("\n")));
