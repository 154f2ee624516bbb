// Watch streams as the apiserver's watch cache serves them (staging/src/k8s.io/apiserver/pkg/storage/cacher):
// a 200 response of newline-delimited {"type","object"} JSON; with no resourceVersion (or "0") the current
// objects first arrive as synthetic ADDED events; otherwise the history after that resourceVersion is
// replayed, and a resourceVersion older than the history gets one ERROR event carrying a 410 Expired
// Status before the stream ends (cacher.Watch → newErrWatcher). Selector transitions become ADDED/DELETED
// (cacheWatcher.convertToWatchEvent). BOOKMARKs are sent only when allowWatchBookmarks=true, every
// bookmark interval and ~2 s before the timeout; the stream ends cleanly at timeoutSeconds.
import type { ServerResponse } from "node:http";
import { apiVersionOf, fieldValue, type ResourceDef } from "./resources.ts";
import type { FieldSelector, LabelSelector } from "./selectors.ts";
import { type ApiError, expired, tooLargeResourceVersion } from "./status.ts";
import type { Store } from "./store.ts";
import type { KubeObject, StoreEvent } from "./types.ts";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

/** Which objects a list or watch selects. */
export interface Selection {
  def: ResourceDef;
  namespace?: string;
  labelSelector: LabelSelector;
  fieldSelector: FieldSelector;
}

export interface WatchRequest extends Selection {
  /** Parsed resourceVersion; undefined for "" / "0" (start with the current state). */
  resourceVersion?: number;
  allowBookmarks: boolean;
  timeoutSeconds: number;
  bookmarkIntervalMs: number;
}

/** How dropWatches() ends a stream: "reset" destroys the socket (a network failure), "end" closes it cleanly. */
export type DropMode = "reset" | "end";

interface ActiveWatch {
  res: ServerResponse;
  path: string;
}

export function objectMatches(req: Selection, obj: KubeObject): boolean {
  if (req.namespace !== undefined && obj.metadata.namespace !== req.namespace) return false;
  if (!req.labelSelector(obj.metadata.labels)) return false;
  const fields = Object.fromEntries(req.def.fieldLabels.map((f) => [f, fieldValue(obj, f)]));
  return req.fieldSelector(fields);
}

/** The object as this API version serves it, with apiVersion and kind set. */
export function present(def: ResourceDef, obj: KubeObject): KubeObject {
  return { ...def.fromStorage(obj), apiVersion: apiVersionOf(def), kind: def.kind };
}

/** cacheWatcher.convertToWatchEvent: what one stored change means to one watcher, if anything. */
function convert(
  req: WatchRequest,
  event: StoreEvent,
): { type: WatchEventType; object: KubeObject } | undefined {
  const prevPasses = event.prev !== undefined && objectMatches(req, event.prev);
  if (event.type === "DELETED") return prevPasses ? { type: "DELETED", object: event.object } : undefined;
  const curPasses = objectMatches(req, event.object);
  if (curPasses) return { type: prevPasses ? "MODIFIED" : "ADDED", object: event.object };
  if (prevPasses && event.prev) {
    const gone = structuredClone(event.prev);
    gone.metadata.resourceVersion = String(event.rv);
    return { type: "DELETED", object: gone };
  }
  return undefined;
}

export class WatchRegistry {
  readonly #active = new Set<ActiveWatch>();

  get openCount(): number {
    return this.#active.size;
  }

  /** Ends every open watch stream; "reset" is abrupt (socket destroyed mid-stream). */
  dropAll(mode: DropMode = "reset"): number {
    const dropped = [...this.#active];
    for (const watch of dropped) {
      this.#active.delete(watch);
      if (mode === "reset") watch.res.destroy();
      else watch.res.end();
    }
    return dropped.length;
  }

  serve(store: Store, res: ServerResponse, path: string, req: WatchRequest): void {
    res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private" });
    res.flushHeaders();
    const write = (type: WatchEventType, object: unknown) => {
      if (!res.destroyed && !res.writableEnded) res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const fail = (error: ApiError) => {
      write("ERROR", error.status);
      res.end();
    };

    const from = req.resourceVersion;
    let replay: StoreEvent[] = [];
    if (from === undefined) {
      for (const obj of store.list(req.def.storage, req.namespace)) {
        if (objectMatches(req, obj)) write("ADDED", present(req.def, obj));
      }
    } else if (from > store.resourceVersion) {
      fail(tooLargeResourceVersion(from, store.resourceVersion));
      return;
    } else {
      const since = store.eventsSince(from);
      if (since === "expired") {
        fail(expired(`too old resource version: ${from} (${store.oldestWatchableResourceVersion})`));
        return;
      }
      replay = since.filter((e) => e.resource === req.def.storage);
    }

    const deliver = (event: StoreEvent) => {
      if (event.resource !== req.def.storage) return;
      const out = convert(req, event);
      if (out) write(out.type, present(req.def, out.object));
    };
    for (const event of replay) deliver(event);
    const unsubscribe = store.subscribe(deliver);

    const bookmark = () =>
      write("BOOKMARK", {
        kind: req.def.kind,
        apiVersion: apiVersionOf(req.def),
        metadata: { resourceVersion: String(store.resourceVersion) },
      });
    const timers: NodeJS.Timeout[] = [];
    if (req.allowBookmarks) timers.push(setInterval(bookmark, req.bookmarkIntervalMs));
    const timeoutMs = req.timeoutSeconds * 1000;
    if (req.allowBookmarks && timeoutMs > 2000) timers.push(setTimeout(bookmark, timeoutMs - 2000));
    timers.push(setTimeout(() => res.end(), timeoutMs));

    const watch: ActiveWatch = { res, path };
    this.#active.add(watch);
    res.on("close", () => {
      unsubscribe();
      for (const timer of timers) clearTimeout(timer);
      this.#active.delete(watch);
    });
  }
}
