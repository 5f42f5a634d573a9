"""Fetch online features for a model from FeatureServer over gRPC.

A driver-ranking model scores candidate drivers for a customer's trip request. At prediction time it asks the feature
store for the features of its feature service (driver_ranking_v1 in the example repository), for every candidate in
one call, and turns the column-wise answer into one feature vector per candidate.

    python client.py --target 127.0.0.1:6570 --customer 5001 --drivers 1001,1002,1003

With auth on (an `auth` section in feature_store.yaml), pass a token with --token or FEATURESTORE_TOKEN.
"""
import argparse
import json
import math
import os
import sys
import time

import generate_stubs

generate_stubs.ensure()

import grpc  # noqa: E402
from featurestore.v1 import serving_pb2, serving_pb2_grpc  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402  (grpcio-health-checking)

STATUS = serving_pb2.FeatureStatus


def wait_until_serving(channel: grpc.Channel, timeout: float) -> None:
    """Waits for the standard gRPC health check to answer SERVING (as a Kubernetes probe would)."""
    health = health_pb2_grpc.HealthStub(channel)
    deadline = time.monotonic() + timeout
    while True:
        try:
            reply = health.Check(health_pb2.HealthCheckRequest(service="featurestore.v1.FeatureServing"), timeout=2)
            if reply.status == health_pb2.HealthCheckResponse.SERVING:
                return
        except grpc.RpcError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"FeatureServer at {channel} is not SERVING after {timeout:.0f} s")
        time.sleep(0.2)


def value_of(value: serving_pb2.Value):
    """A protobuf Value as a Python value (None when unset)."""
    kind = value.WhichOneof("kind")
    if kind is None:
        return None
    if kind == "list_value":
        return [value_of(v) for v in value.list_value.values]
    return getattr(value, kind)


def fetch_features(stub, service: str, customer: int, drivers: list[int], metadata) -> list[dict]:
    """One GetOnlineFeatures call for all candidates; returns one dict of features (and statuses) per driver."""
    request = serving_pb2.GetOnlineFeaturesRequest(feature_service=service, full_feature_names=True)
    request.entities["driver_id"].int64_values.values.extend(drivers)
    request.entities["customer_id"].int64_values.values.extend([customer] * len(drivers))
    response = stub.GetOnlineFeatures(request, metadata=metadata, timeout=5)
    rows = [{"driver_id": d, "features": {}, "missing": []} for d in drivers]
    for column in response.features:
        for i, row in enumerate(rows):
            row["features"][column.name] = value_of(column.values[i])
            if column.statuses[i] != STATUS.PRESENT:
                row["missing"].append(f"{column.name}={STATUS.Name(column.statuses[i])}")
    return rows


def score(features: dict) -> float:
    """A stand-in for the model: a logistic score over a few features (missing ones count as 0)."""
    z = (
        3.0 * (features.get("driver_stats__conv_rate") or 0.0)
        + 2.0 * (features.get("driver_stats__acc_rate") or 0.0)
        + 0.05 * (features.get("driver_stats__avg_daily_trips") or 0)
        + (1.0 if features.get("driver_activity__is_online") else -2.0)
        - 2.0
    )
    return 1 / (1 + math.exp(-z))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", default="127.0.0.1:6570", help="FeatureServer's gRPC address")
    parser.add_argument("--service", default="driver_ranking_v1", help="the model's feature service")
    parser.add_argument("--customer", type=int, default=5001, help="the customer requesting a trip")
    parser.add_argument("--drivers", default="1001,1002,1003,1004,1005", help="candidate driver ids, comma-separated")
    parser.add_argument("--token", default=os.environ.get("FEATURESTORE_TOKEN"), help="bearer token (when auth is on)")
    parser.add_argument("--wait", type=float, default=30, help="seconds to wait for the server to be SERVING")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    parser.add_argument("--ca", help="TLS: the CA bundle (PEM) the server's certificate chains to (without it: plaintext)")
    parser.add_argument("--cert", help="mutual TLS: this client's certificate (PEM)")
    parser.add_argument("--key", help="mutual TLS: this client's private key (PEM)")
    args = parser.parse_args()
    if (args.cert is None) != (args.key is None):
        parser.error("--cert and --key go together (mutual TLS needs both)")
    if args.cert and not args.ca:
        parser.error("--cert and --key need --ca (the CA of the server's certificate): they are sent over TLS only")
    drivers = [int(d) for d in args.drivers.split(",") if d]
    metadata = [("authorization", f"Bearer {args.token}")] if args.token else []

    if args.ca:
        def read(path):
            with open(path, "rb") as f:
                return f.read()
        credentials = grpc.ssl_channel_credentials(root_certificates=read(args.ca),
                                                   private_key=read(args.key) if args.key else None,
                                                   certificate_chain=read(args.cert) if args.cert else None)
        channel = grpc.secure_channel(args.target, credentials)
    else:
        channel = grpc.insecure_channel(args.target)
    with channel:
        wait_until_serving(channel, args.wait)
        stub = serving_pb2_grpc.FeatureServingStub(channel)
        try:
            services = stub.ListFeatureServices(serving_pb2.ListFeatureServicesRequest(), metadata=metadata, timeout=5)
            known = {s.name for s in services.feature_services}
            if args.service not in known:
                sys.exit(f"no feature service '{args.service}'; the server has: {', '.join(sorted(known))}")
            started = time.perf_counter()
            rows = fetch_features(stub, args.service, args.customer, drivers, metadata)
            elapsed_ms = (time.perf_counter() - started) * 1000
        except grpc.RpcError as error:
            sys.exit(f"{error.code().name}: {error.details()}")

    ranked = sorted(rows, key=lambda r: score(r["features"]), reverse=True)
    if args.json:
        for row in ranked:
            print(json.dumps({"driver_id": row["driver_id"], "score": round(score(row["features"]), 4),
                              "features": row["features"], "missing": row["missing"]}, default=str))
        return
    print(f"{args.service} for customer {args.customer}: {len(drivers)} candidates in one call ({elapsed_ms:.1f} ms)")
    for row in ranked:
        f = row["features"]
        print(f"  driver {row['driver_id']}: score {score(f):.3f}  conv_rate={f.get('driver_stats__conv_rate')} "
              f"acc_rate={f.get('driver_stats__acc_rate')} online={f.get('driver_activity__is_online')} "
              f"tier={f.get('customer_profile__tier')}" + (f"  missing: {', '.join(row['missing'])}" if row["missing"] else ""))


if __name__ == "__main__":
    main()
