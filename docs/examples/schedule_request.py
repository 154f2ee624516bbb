#!/usr/bin/env python3
"""Ask a k3s-fleet coordinator for a pod placement over MQTT, without Node.js.

Needs paho-mqtt and protobuf (Debian: python3-paho-mqtt python3-protobuf) and the Python classes of the
contract, generated once with protoc:

    protoc -I proto --python_out=DIR k3sfleet/v1/fleet.proto
    PYTHONPATH=DIR python3 docs/examples/schedule_request.py --pod-name web --image nginx:latest --dry-run

Prints the ScheduleDecision as proto3 JSON; exits 0 when the pod was (or would be) scheduled, 1 otherwise,
2 when the broker cannot be reached or refuses the login or the subscription. --cpu and --memory default to
100m and 128Mi, as in `k3s-fleet schedule`.
"""
import argparse
import sys
import threading
import uuid

import paho.mqtt.client as mqtt
from google.protobuf import json_format

from k3sfleet.v1 import fleet_pb2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument("--topic-root", default="k3s-fleet/v1")
    parser.add_argument("--pod-name", default="")
    parser.add_argument("--image", default="")
    parser.add_argument("--namespace", default="")
    # The same defaults as `k3s-fleet schedule`: the coordinator refuses a request without them.
    parser.add_argument("--cpu", default="100m")
    parser.add_argument("--memory", default="128Mi")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()

    # The client id names the reply topic: with reply_to left empty the coordinator answers on
    # {root}/schedule/reply/{client_id}. A scheduler user may subscribe to that topic only.
    client_id = f"py-scheduler-{uuid.uuid4().hex[:8]}"
    reply_topic = f"{args.topic_root}/schedule/reply/{client_id}"
    request = fleet_pb2.ScheduleRequest(
        request_id=str(uuid.uuid4()),  # the idempotency key: resending it never creates a second pod
        client_id=client_id,
        pod_name=args.pod_name,
        namespace=args.namespace,
        image=args.image,
        cpu_request=args.cpu,
        memory_request=args.memory,
        dry_run=args.dry_run,
    )

    done = threading.Event()
    decision = fleet_pb2.ScheduleDecision()
    refused = []  # why the broker said no, when it did: then there is no decision to wait for

    def on_connect(client, _userdata, _flags, rc, _properties=None):
        if rc != 0:
            refused.append(f"broker refused the connection: {mqtt.connack_string(rc)}")
            done.set()
            return
        client.subscribe(reply_topic, qos=1)

    def on_subscribe(client, _userdata, _mid, granted, _properties=None):
        codes = [getattr(g, "value", g) for g in granted]
        if any(code >= 0x80 for code in codes):
            refused.append(f"broker refused the subscription to {reply_topic}")
            done.set()
            return
        # MQTT 3.1.1, QoS 1, not retained: the contract's request topic.
        client.publish(f"{args.topic_root}/schedule/request", request.SerializeToString(), qos=1)

    def on_message(_client, _userdata, message):
        answer = fleet_pb2.ScheduleDecision()
        answer.ParseFromString(message.payload)
        if answer.request_id == request.request_id:  # every reply echoes the request id
            decision.CopyFrom(answer)
            done.set()

    if hasattr(mqtt, "CallbackAPIVersion"):  # paho-mqtt 2.x
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
    else:  # paho-mqtt 1.x (Debian 12)
        client = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv311)
    if args.username:
        client.username_pw_set(args.username, args.password)
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    try:
        client.connect(args.host, args.port, keepalive=30)
    except OSError as error:  # nothing listens, unknown host, unreachable: say so in one line
        print(f"cannot connect to {args.host}:{args.port}: {error.strerror or error}", file=sys.stderr)
        return 2
    client.loop_start()
    answered = done.wait(args.timeout)
    client.loop_stop()
    client.disconnect()
    if refused:
        print(refused[0], file=sys.stderr)
        return 2
    if not answered or not decision.request_id:
        print(f"no decision within {args.timeout}s", file=sys.stderr)
        return 1
    print(json_format.MessageToJson(decision))
    return 0 if decision.status == fleet_pb2.DECISION_STATUS_SCHEDULED else 1


if __name__ == "__main__":
    sys.exit(main())
