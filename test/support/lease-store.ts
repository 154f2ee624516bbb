// An in-memory Lease with the API server's optimistic concurrency: every write must name the current
// resourceVersion (else 409), a create of an existing Lease is a conflict too. Each replica gets its own
// client, whose link to the "API server" can be cut (calls fail) or made to hang (calls never answer).
import {
  type LeaseClient,
  LeaseConflictError,
  type LeaseRecord,
  type StoredLease,
} from "../../coordinator/leader/elector.ts";

export interface LeaseStore {
  current(): StoredLease | undefined;
  /** Every successful write, in order: who wrote which holder. */
  readonly writes: { by: string; holder: string }[];
  client(name: string): LeaseClient & { fault: "none" | "error" | "hang" };
}

export function leaseStore(): LeaseStore {
  let stored: StoredLease | undefined;
  let version = 0;
  const writes: { by: string; holder: string }[] = [];
  const write = (by: string, record: LeaseRecord): StoredLease => {
    version += 1;
    stored = { record: { ...record }, resourceVersion: String(version) };
    writes.push({ by, holder: record.holderIdentity });
    return structuredClone(stored);
  };
  return {
    current: () => stored,
    writes,
    client(name) {
      const client = {
        fault: "none" as "none" | "error" | "hang",
        async call<T>(fn: () => T): Promise<T> {
          if (client.fault === "error") throw new Error("connect ECONNREFUSED 127.0.0.1:6443");
          if (client.fault === "hang") return new Promise<T>(() => {});
          return fn();
        },
        get: () => client.call(() => (stored ? structuredClone(stored) : undefined)),
        create: (record: LeaseRecord) =>
          client.call(() => {
            if (stored) throw new LeaseConflictError("leases.coordination.k8s.io already exists");
            return write(name, record);
          }),
        update: (record: LeaseRecord, resourceVersion: string) =>
          client.call(() => {
            if (stored?.resourceVersion !== resourceVersion) throw new LeaseConflictError();
            return write(name, record);
          }),
      };
      return client;
    },
  };
}
