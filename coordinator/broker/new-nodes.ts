// How many node ids one client may bring into the fleet (issue 12: in anonymous mode one local process
// could fill the coordinator's node table, so real nodes were refused). A node id is new when no client
// has published on its node topics since the broker started (the newest `maxKnown` are remembered); each
// MQTT client id, and optionally each remote address, may introduce at most so many new ones a minute
// (token buckets, a minute's worth at once). Past that the PUBLISH is refused (`new_node_rate`) and counted.
// An agent introduces one node id (its own), a simulator one per connection. Pure: time is passed in.

export interface NewNodeBounds {
  /** New node ids a minute per MQTT client id; 0: unbounded. */
  perClientPerMinute: number;
  /** New node ids a minute per remote address; 0: unbounded (the simulator brings 1,000 from loopback). */
  perAddressPerMinute: number;
}

export interface NewNodeGate {
  /** Whether `clientId` (from `address`) may publish for `nodeId` now; a new id is remembered when it may. */
  admit(clientId: string, address: string | undefined, nodeId: string, nowMs: number): boolean;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function createNewNodeGate(bounds: NewNodeBounds, maxKnown = 100_000): NewNodeGate {
  const known = new Map<string, true>();
  const byClient = new Map<string, Bucket>();
  const byAddress = new Map<string, Bucket>();

  /** The bucket of `key` refilled to `nowMs`, or undefined when the bound is off. */
  function refilled(map: Map<string, Bucket>, key: string, perMinute: number, nowMs: number) {
    if (perMinute <= 0) return undefined;
    const bucket = map.get(key) ?? { tokens: perMinute, at: nowMs };
    bucket.tokens = Math.min(
      perMinute,
      bucket.tokens + (Math.max(0, nowMs - bucket.at) * perMinute) / 60_000,
    );
    bucket.at = nowMs;
    map.delete(key);
    map.set(key, bucket);
    if (map.size > maxKnown) map.delete(map.keys().next().value as string);
    return bucket;
  }

  return {
    admit(clientId, address, nodeId, nowMs) {
      if (known.has(nodeId)) return true;
      const client = refilled(byClient, clientId, bounds.perClientPerMinute, nowMs);
      const remote =
        address === undefined ? undefined : refilled(byAddress, address, bounds.perAddressPerMinute, nowMs);
      if ((client && client.tokens < 1) || (remote && remote.tokens < 1)) return false;
      if (client) client.tokens -= 1;
      if (remote) remote.tokens -= 1;
      known.set(nodeId, true);
      if (known.size > maxKnown) known.delete(known.keys().next().value as string);
      return true;
    },
  };
}
