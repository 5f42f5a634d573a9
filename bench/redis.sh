#!/usr/bin/env bash
# The Redis online store on a 3-primary Redis Cluster on loopback, beside SQLite, in one run: materialize of the join
# benchmark's large preset (3 views x 10M rows, 20k drivers), in-process lookup latency (1 and 100 entities x 3
# views), and redis-benchmark -P 16 on the same cluster as the floor.
# Usage: bash bench/redis.sh [small|medium|large]
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET="${1:-large}"
DATA="bench/data/join-$PRESET"
[ -f "$DATA/repo/feature_store.yaml" ] || .venv/bin/python -c "import sys; sys.path.insert(0,'bench'); import join; join.generate('$PRESET', '$DATA')"
swift build -c release --product featurectl >/dev/null
swift build -c release --product online-bench >/dev/null

# A 3-primary cluster on free high ports, stopped on exit.
CLUSTER=$(mktemp -d)
PORTS=(27101 27102 27103)
cleanup() { for p in "${PORTS[@]}"; do redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; done; rm -rf "$CLUSTER"; }
trap cleanup EXIT
for p in "${PORTS[@]}"; do
  mkdir -p "$CLUSTER/$p"
  (cd "$CLUSTER/$p" && redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file nodes.conf \
     --cluster-node-timeout 1000 --save "" --appendonly no --daemonize yes --logfile log)
done
for p in "${PORTS[@]}"; do until redis-cli -p "$p" ping >/dev/null 2>&1; do sleep 0.1; done; done
redis-cli --cluster create "${PORTS[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes >/dev/null
for p in "${PORTS[@]}"; do until redis-cli -p "$p" cluster info | grep -q cluster_state:ok; do sleep 0.1; done; done

# The same repository, once on SQLite and once on the cluster, with ttl 0: the preset's events are from 2023, and
# Redis expires a row at its event time + ttl (SQLite keeps it and lookups call it OUTSIDE_MAX_AGE), so with the
# preset's ttls the cluster would hold nothing to look up.
SQLITE_REPO="$DATA/repo-sqlite-ttl0"
REDIS_REPO="$DATA/repo-redis"
rm -rf "$SQLITE_REPO" "$REDIS_REPO" && cp -r "$DATA/repo" "$SQLITE_REPO" && cp -r "$DATA/repo" "$REDIS_REPO"
sed -i 's/ttl: [0-9]*s/ttl: 0/' "$SQLITE_REPO/defs.yaml" "$REDIS_REPO/defs.yaml"
sed -i "s|^registry:.*|registry: {path: $PWD/$DATA/registry-sqlite-ttl0.db}|; s|^online_store:.*|online_store: {kind: sqlite, path: $PWD/$DATA/online-ttl0.db}|" "$SQLITE_REPO/feature_store.yaml"
sed -i "s|^online_store:.*|online_store: {kind: redis, cluster: true, nodes: [127.0.0.1:${PORTS[0]}, 127.0.0.1:${PORTS[1]}]}|" "$REDIS_REPO/feature_store.yaml"
sed -i "s|^registry:.*|registry: {path: $PWD/$DATA/registry-redis.db}|" "$REDIS_REPO/feature_store.yaml"
grep -q "^online_store:" "$REDIS_REPO/feature_store.yaml" || echo "online_store: {kind: redis, cluster: true, nodes: [127.0.0.1:${PORTS[0]}, 127.0.0.1:${PORTS[1]}]}" >> "$REDIS_REPO/feature_store.yaml"
rm -f "$DATA"/online-ttl0.db* "$DATA/registry-sqlite-ttl0.db" "$DATA/registry-redis.db"
.build/release/featurectl apply --repo "$SQLITE_REPO" >/dev/null
.build/release/featurectl apply --repo "$REDIS_REPO" >/dev/null
for repo in "$SQLITE_REPO" "$REDIS_REPO"; do
  echo "materialize into $(grep -o 'kind: [a-z]*' "$repo/feature_store.yaml" | tail -1) ($PRESET preset, 3 views, release build):"
  /usr/bin/time -f "  wall %e s, peak RSS %M KiB" .build/release/featurectl materialize 2023-01-01T00:00:00Z 2024-12-31T00:00:00Z --repo "$repo" | tail -1
done
for repo in "$SQLITE_REPO" "$REDIS_REPO"; do
  echo "in-process lookups on $(grep -o 'kind: [a-z]*' "$repo/feature_store.yaml" | tail -1) (20,000 requests per case, random existing drivers):"
  .build/release/online-bench "$repo" --iterations 20000
done
echo "floor: redis-benchmark --cluster -P 16 on the same cluster"
redis-benchmark --cluster -p "${PORTS[0]}" -P 16 -t get,set -n 1000000 -q 2>/dev/null | tr "\r" "\n" | grep "requests per second"
