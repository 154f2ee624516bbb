// The pod a valid request becomes: our schedulerName, one container with the requested image and
// resources, the request's labels/nodeSelector/tolerations, and nothing else a client could abuse (no
// command, no host access, no service account token). Pure.
import type { Pod, Toleration } from "../scheduler/index.ts";
import type { ValidRequest } from "./policy.ts";

/** Annotation carrying the request id: ties a pod to the request that created it (idempotency). */
export const REQUEST_ID_ANNOTATION = "k3s-fleet.io/request-id";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY = "k3s-fleet";
export const CONTAINER_NAME = "main";

/** A core/v1 Pod as we submit it; structurally a client-node V1Pod and an engine Pod. */
export interface PodManifest extends Pod {
  readonly apiVersion: "v1";
  readonly kind: "Pod";
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
  };
  readonly spec: {
    readonly schedulerName: string;
    readonly automountServiceAccountToken: false;
    readonly enableServiceLinks: false;
    readonly containers: ReadonlyArray<{
      readonly name: string;
      readonly image: string;
      readonly resources: {
        readonly requests: Readonly<Record<string, string>>;
        readonly limits: Readonly<Record<string, string>>;
      };
    }>;
    readonly nodeSelector?: Readonly<Record<string, string>>;
    readonly tolerations?: readonly Toleration[];
  };
}

export function podManifest(req: ValidRequest, schedulerName: string): PodManifest {
  const hasSelector = Object.keys(req.nodeSelector).length > 0;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: req.podName,
      namespace: req.namespace,
      labels: { ...req.labels, [MANAGED_BY_LABEL]: MANAGED_BY },
      annotations: { [REQUEST_ID_ANNOTATION]: req.requestId },
    },
    spec: {
      schedulerName,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      containers: [
        {
          name: CONTAINER_NAME,
          image: req.image,
          resources: {
            requests: { cpu: req.requests.cpu, memory: req.requests.memory },
            limits: {
              ...(req.limits.cpu === "" ? {} : { cpu: req.limits.cpu }),
              ...(req.limits.memory === "" ? {} : { memory: req.limits.memory }),
            },
          },
        },
      ],
      ...(hasSelector ? { nodeSelector: { ...req.nodeSelector } } : {}),
      ...(req.tolerations.length > 0 ? { tolerations: [...req.tolerations] } : {}),
    },
  };
}

/** The request id a pod was created for, if we created it. */
export const requestIdOf = (pod: {
  metadata?: { annotations?: Record<string, string> };
}): string | undefined => pod.metadata?.annotations?.[REQUEST_ID_ANNOTATION];
