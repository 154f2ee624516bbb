// The web view's static files: hand-written ES modules and CSS in ./public, and uPlot from its npm
// package. A fixed table: no path from a request ever reaches the file system. Read once, kept in memory.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const PUBLIC = (name: string) => fileURLToPath(new URL(`./public/${name}`, import.meta.url));
const fromPackage = (specifier: string) => createRequire(import.meta.url).resolve(specifier);

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/** URL path → file and content type. */
export const ASSETS: ReadonlyMap<string, { file: () => string; type: string }> = new Map([
  ["/", { file: () => PUBLIC("index.html"), type: "text/html; charset=utf-8" }],
  ...["app.js", "dom.js", "fleet.js", "node.js", "scheduling.js", "stream.js", "format.js", "perf.js"].map(
    (name) => [`/web/${name}`, { file: () => PUBLIC(name), type: JS }] as const,
  ),
  ["/web/style.css", { file: () => PUBLIC("style.css"), type: CSS }],
  ["/web/uplot.js", { file: () => fromPackage("uplot/dist/uPlot.esm.js"), type: JS }],
  ["/web/uplot.css", { file: () => fromPackage("uplot/dist/uPlot.min.css"), type: CSS }],
]);

/** Scripts and styles only from this origin; no inline script, no frames, no plugins. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export function createAssets() {
  const cache = new Map<string, Buffer>();
  return {
    has: (path: string) => ASSETS.has(path),
    async read(path: string): Promise<{ body: Buffer; type: string } | undefined> {
      const asset = ASSETS.get(path);
      if (asset === undefined) return undefined;
      let body = cache.get(path);
      if (body === undefined) {
        body = await readFile(asset.file());
        cache.set(path, body);
      }
      return { body, type: asset.type };
    },
  };
}
