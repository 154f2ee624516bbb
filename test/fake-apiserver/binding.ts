// The Binding subresource, after pkg/registry/core/pod/storage/storage.go (BindingREST.Create, assignPod,
// setPodHostAndAnnotations):
//  - POST .../pods/{name}/binding: a Binding whose metadata.name differs from {name} → 400 BadRequest;
//  - POST .../namespaces/{ns}/bindings (LegacyBindingREST): the name comes from the Binding itself;
//  - ValidatePodBinding failures come back as a plain error → 500 without a reason (upstream behaviour);
//  - unknown pod → 404 `pods "x" not found`; uid/resourceVersion preconditions → 409 Conflict on pods;
//  - already bound, being deleted or scheduling-gated → 409 Conflict on pods/binding;
//  - the target node is NOT checked for existence, as upstream;
//  - success sets spec.nodeName, merges the Binding's annotations, sets PodScheduled=True, and answers
//    201 with a Status {status: "Success", code: 201}.
import { isDryRun, type RequestInfo, requireNamespace, type ServerContext } from "./handlers.ts";
import { type Reply, readJson } from "./respond.ts";
import { badRequest, conflict, MODIFIED_CONFLICT, notFound, success } from "./status.ts";
import { timestamp } from "./time.ts";
import { isObject, type JsonObject } from "./types.ts";
import { schemaErrors } from "./validate.ts";
import { checkBinding } from "./validate-pod.ts";

function setScheduledCondition(status: JsonObject, now: Date): void {
  const conditions = Array.isArray(status.conditions) ? status.conditions.filter(isObject) : [];
  const existing = conditions.find((c) => c.type === "PodScheduled");
  if (existing) {
    if (existing.status !== "True") existing.lastTransitionTime = timestamp(now);
    existing.status = "True";
    delete existing.reason;
    delete existing.message;
  } else {
    conditions.push({
      type: "PodScheduled",
      status: "True",
      lastProbeTime: null,
      lastTransitionTime: timestamp(now),
    });
  }
  status.conditions = conditions;
}

export async function bind(ctx: ServerContext, info: RequestInfo): Promise<Reply> {
  const body = await readJson(info.req);
  if (!isObject(body))
    throw badRequest('Binding in version "v1" cannot be handled as a Binding: body is not an object');
  if (body.kind !== undefined && body.kind !== "Binding") {
    throw badRequest(
      `Binding in version "v1" cannot be handled as a Binding: not a Binding object: ${String(body.kind)}`,
    );
  }
  const meta: JsonObject = isObject(body.metadata) ? body.metadata : {};
  const namespace = info.namespace ?? "";
  if (meta.namespace && meta.namespace !== namespace) {
    throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
  schemaErrors("v1", "Binding", { ...body, metadata: meta }); // decode errors (wrong types) are a 400
  requireNamespace(ctx, namespace); // admission runs before BindingREST.Create
  const bindingName = typeof meta.name === "string" ? meta.name : "";
  const name = info.name ?? bindingName;
  if (name !== bindingName) throw badRequest("name in URL does not match name in Binding object");
  checkBinding(body);

  const pod = ctx.store.get("pods", namespace, name);
  if (!pod) throw notFound("pods", name);
  if (meta.uid && meta.uid !== pod.metadata.uid) {
    throw conflict(
      "pods",
      name,
      `Precondition failed: UID in precondition: ${String(meta.uid)}, UID in object meta: ${pod.metadata.uid ?? ""}`,
    );
  }
  if (meta.resourceVersion && meta.resourceVersion !== pod.metadata.resourceVersion) {
    throw conflict("pods", name, MODIFIED_CONFLICT);
  }
  const spec: JsonObject = isObject(pod.spec) ? pod.spec : {};
  if (pod.metadata.deletionTimestamp) {
    throw conflict("pods/binding", name, `pod ${name} is being deleted, cannot be assigned to a host`);
  }
  if (spec.nodeName)
    throw conflict(
      "pods/binding",
      name,
      `pod ${name} is already assigned to node "${String(spec.nodeName)}"`,
    );
  if (Array.isArray(spec.schedulingGates) && spec.schedulingGates.length > 0) {
    throw conflict("pods/binding", name, `pod ${name} has non-empty .spec.schedulingGates`);
  }

  const target = body.target as JsonObject;
  spec.nodeName = String(target.name);
  pod.spec = spec;
  if (isObject(meta.annotations)) {
    pod.metadata.annotations = {
      ...pod.metadata.annotations,
      ...(meta.annotations as Record<string, string>),
    };
  }
  const status: JsonObject = isObject(pod.status) ? pod.status : {};
  setScheduledCondition(status, ctx.store.now());
  pod.status = status;
  if (!isDryRun(info)) ctx.store.update({ resource: "pods" }, pod);
  return { code: 201, body: success(201) };
}
