#!/usr/bin/env bash
# The Redis online store on a 3-primary Redis Cluster on loopback, beside SQLite, in one run:
#   materialize  the join benchmark's preset (large: 3 views x 10M rows, 20k drivers) into each store;
#   lookups      in-process lookup latency (1 and 100 entities x 3 views), then redis-benchmark -P 16 as the floor;
#   serving      FeatureServer (release) on each store, driven over gRPC by serving-bench (the example repository
#                with the large sample data, as bench/serving.sh);
#   ingest       stream ingestion (ingest-bench: 1 KB JSON events, 3 views, and 3 views + 1 aggregated) into each
#                store, alternating, 3 runs each.
# Usage: bash bench/redis.sh [small|medium|large] [parts, comma-separated; default all]
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET="${1:-large}"
PARTS="${2:-materialize,lookups,serving,ingest}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-10}"
RUNS="${RUNS:-3}"
part() { [[ ",$PARTS," == *",$1,"* ]]; }
DATA="bench/data/join-$PRESET"
[ -f "$DATA/repo/feature_store.yaml" ] || .venv/bin/python -c "import sys; sys.path.insert(0,'bench'); import join; join.generate('$PRESET', '$DATA')"
for product in featurectl online-bench FeatureServer serving-bench ingest-bench; do swift build -c release --product "$product" >/dev/null; done
BIN=.build/release

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
if part materialize; then
for repo in "$SQLITE_REPO" "$REDIS_REPO"; do
  echo "materialize into $(grep -o 'kind: [a-z]*' "$repo/feature_store.yaml" | tail -1) ($PRESET preset, 3 views, release build):"
  /usr/bin/time -f "  wall %e s, peak RSS %M KiB" .build/release/featurectl materialize 2023-01-01T00:00:00Z 2024-12-31T00:00:00Z --repo "$repo" | tail -1
done
fi
if part lookups; then
for repo in "$SQLITE_REPO" "$REDIS_REPO"; do
  echo "in-process lookups on $(grep -o 'kind: [a-z]*' "$repo/feature_store.yaml" | tail -1) (20,000 requests per case, random existing drivers):"
  .build/release/online-bench "$repo" --iterations 20000
done
echo "floor: redis-benchmark --cluster -P 16 on the same cluster"
redis-benchmark --cluster -p "${PORTS[0]}" -P 16 -t get,set -n 1000000 -q 2>/dev/null | tr "\r" "\n" | grep "requests per second"
fi

CLUSTER_YAML="{kind: redis, cluster: true, nodes: [127.0.0.1:${PORTS[0]}, 127.0.0.1:${PORTS[1]}]}"
flush() { for p in "${PORTS[@]}"; do redis-cli -p "$p" flushall >/dev/null; done; }

if part serving; then
  # The example repository with fresh large sample data (10,000 drivers, 100,000 customers; event times end now),
  # once on SQLite and once on the cluster; the example's ttls stand (the rows are recent).
  SERVING="bench/data/serving-redis"
  rm -rf "$SERVING" && mkdir -p "$SERVING/sqlite"
  cp features/*.yaml "$SERVING/sqlite/"
  "$BIN/featurectl" sample-data --size large --repo "$SERVING/sqlite" >/dev/null
  cp -r "$SERVING/sqlite" "$SERVING/redis"
  sed -i "/^online_store:/,/^  path:/d" "$SERVING/redis/feature_store.yaml"
  echo "online_store: $CLUSTER_YAML" >> "$SERVING/redis/feature_store.yaml"
  flush
  for store in sqlite redis; do
    "$BIN/featurectl" apply --repo "$SERVING/$store" >/dev/null
    echo "materialize-incremental of the example (large sample data) into $store:"
    /usr/bin/time -f "  wall %e s" "$BIN/featurectl" materialize-incremental now --repo "$SERVING/$store" | tail -1
  done
  for store in sqlite redis; do
    "$BIN/FeatureServer" --repo "$SERVING/$store" --no-ingest --grpc-port 6590 --http-port 6591 2>"$SERVING/$store.log" &
    SERVER=$!
    for _ in $(seq 300); do grep -q "gRPC listening" "$SERVING/$store.log" && break; sleep 0.1; done
    echo "FeatureServer on $store (release; server, load generator and the cluster share $(nproc) cores; ${SECONDS_PER_RUN}s per run after 2s warm-up):"
    for scenario in "1x1 1" "1x1 16" "1xservice 1" "100xservice 1" "100xservice 4"; do
      set -- $scenario
      "$BIN/serving-bench" --port 6590 --duration "$SECONDS_PER_RUN" --scenario "$1" --concurrency "$2"
    done
    kill $SERVER; wait $SERVER 2>/dev/null || true
  done
fi

if part ingest; then
  # The mock Kafka cluster runs inside ingest-bench (its partitions hold about 5 MB each: 51 for 200,000 events).
  EVENTS="${EVENTS:-200000}"
  PARTITIONS=$(( (EVENTS / 4000) + 1 ))
  for aggregated in 0 1; do
    declare -A results=()
    for run in $(seq "$RUNS"); do
      for store in sqlite redis; do
        flush
        extra=(); [ "$store" = redis ] && extra=(--online-store "$CLUSTER_YAML")
        line=$("$BIN/ingest-bench" --mode throughput --events "$EVENTS" --partitions "$PARTITIONS" --aggregated "$aggregated" "${extra[@]}" 2>/dev/null)
        echo "$store run $run: $(echo "$line" | grep '^throughput')"
        results[$store]+="$(echo "$line" | awk '/RESULT/ {print $3}') "
      done
    done
    median() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
    ms=$(median "${results[sqlite]}"); mr=$(median "${results[redis]}")
    echo "ingestion ($([ $aggregated = 1 ] && echo "3 views + 1 aggregated" || echo "3 views")), median of $RUNS: sqlite $ms events/s, redis cluster $mr events/s, ratio $(awk -v a="$mr" -v b="$ms" 'BEGIN {printf "%.2f", a/b}')x"
    unset results
  done
fi
