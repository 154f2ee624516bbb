// One fake API server for a file's tests, with a CoreV1Api of the real client-node on it: started before
// them (then `seed` adds what every test starts from), closed after. Registers the hooks where it is called.
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll } from "vitest";
import { type FakeApiServer, startFakeApiServer } from "../fake-apiserver/index.ts";

export interface SharedFakeApiServer {
  readonly api: FakeApiServer;
  readonly core: CoreV1Api;
}

export function useFakeApiServer(seed?: (api: FakeApiServer) => void): SharedFakeApiServer {
  let started: SharedFakeApiServer | undefined;
  const current = () => {
    if (!started) throw new Error("useFakeApiServer: the server is not running");
    return started;
  };
  beforeAll(async () => {
    const api = await startFakeApiServer();
    started = { api, core: api.kubeConfig().makeApiClient(CoreV1Api) };
    seed?.(api);
  });
  afterAll(() => started?.api.close());
  return {
    get api() {
      return current().api;
    },
    get core() {
      return current().core;
    },
  };
}
