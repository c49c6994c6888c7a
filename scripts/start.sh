#!/usr/bin/env bash
# The whole system in the foreground: installs dependencies, brings up PostgreSQL, Redis and Kafka,
# compiles the service (dist/), applies the migrations and runs every role on port 3000 (PORT overrides). Any variable of the
# contract given in the environment overrides the development defaults. SIGTERM or Ctrl-C stops the
# service, and the Kafka broker and the Redis with AOF too when this script started them;
# PostgreSQL and the shared Redis stay up. Without REDIS_URL it uses a Redis that persists: the one
# on 6379 when it does, else one of its own with AOF (scripts/lib/redis.sh).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

source scripts/lib/node.sh
project_node
scripts/install.sh
kafka_was_up=0
scripts/kafka.sh status >/dev/null 2>&1 && kafka_was_up=1
scripts/services.sh

# A 202 is a job that survives Redis: without REDIS_URL, a Redis that persists (scripts/lib/redis.sh).
source scripts/lib/redis.sh
own_redis=0
if [[ -z "${REDIS_URL:-}" && -z "${REDIS_CLUSTER_NODES:-}" ]]; then
  ensure_durable_redis "$REPO"
  export REDIS_URL="$DURABLE_REDIS_URL"
  own_redis=$DURABLE_REDIS_STARTED
fi

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/coupon}"
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:9092}"
export PORT="${PORT:-3000}"
export ROLES="${ROLES:-all}"

npm run --silent build
node dist/infra/db/migrate.js

child=
stop() {
  [[ -n "$child" ]] && kill -TERM "$child" 2>/dev/null && wait "$child" || true
  if [[ $kafka_was_up == 0 ]]; then scripts/kafka.sh stop || true; fi
  if [[ $own_redis == 1 ]]; then stop_durable_redis; fi
  exit 0
}
trap stop TERM INT
# The V8 flags of a process with the worker role (why: bench/lib/node-args.ts).
node --max-semi-space-size=32 --max-old-space-size=512 dist/main.js &
child=$!
wait "$child" || true
child=
if [[ $kafka_was_up == 0 ]]; then scripts/kafka.sh stop || true; fi
if [[ $own_redis == 1 ]]; then stop_durable_redis; fi
