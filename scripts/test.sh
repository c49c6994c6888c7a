#!/usr/bin/env bash
# The whole test suite on real PostgreSQL, Redis and Kafka: installs dependencies, brings the
# services up (scripts/services.sh), then runs vitest. Each test file makes its own database, queue
# prefix and topics, so the suite can run again on the same services. Arguments go to vitest.
# The last line is "N passed, N failed".
set -uo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

# The browser tests drive Debian's Chromium (the only browser this kind of machine can install).
ensure_chromium() {
  [[ -x /usr/bin/chromium ]] && return 0
  echo "test: installing chromium with apt"
  if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit 2>/dev/null)" ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
}

# The alert rules are checked and unit-tested with Prometheus's promtool (Debian's `prometheus`).
ensure_promtool() {
  command -v promtool >/dev/null && return 0
  echo "test: installing prometheus (promtool) with apt"
  if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit 2>/dev/null)" ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
}

source scripts/lib/node.sh
if ! project_node || ! scripts/install.sh || ! scripts/services.sh || ! ensure_chromium ||
  ! ensure_promtool; then
  echo "test setup failed: see the lines above"
  echo "0 passed, 1 failed"
  exit 1
fi

# The service refuses work on a Redis that would lose it: the tests run on one that persists.
source scripts/lib/redis.sh
if [[ -z "${REDIS_URL:-}" ]]; then
  if ! ensure_durable_redis "$REPO"; then
    echo "test setup failed: no Redis that persists (see the lines above)"
    echo "0 passed, 1 failed"
    exit 1
  fi
  export REDIS_URL="$DURABLE_REDIS_URL"
fi

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/coupon_test}"
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:9092}"
export LOG_LEVEL="${LOG_LEVEL:-warn}"

mkdir -p test-output
report=test-output/vitest.json
rm -f "$report"
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?
node scripts/test-summary.mjs "$report" "$status"
