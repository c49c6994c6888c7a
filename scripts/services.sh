#!/usr/bin/env bash
# Makes PostgreSQL, Redis and Kafka answer on loopback, for machines without Docker.
# PostgreSQL and Redis are reused when they answer (they are shared services: this script never
# stops them); when they do not, the local packages are started (installed with apt if missing).
# Kafka is a real Apache Kafka broker run by scripts/kafka.sh. Idempotent: a second call returns
# at once. Each wait is bounded and fails with a line naming the service.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_HOST=127.0.0.1 PG_PORT=5432 REDIS_PORT=6379
WAIT_S="${SERVICES_WAIT_S:-30}"

say() { printf 'services: %s\n' "$*"; }
die() { printf 'services: %s\n' "$*" >&2; exit 1; }

wait_for() { # name, command...
  local name=$1; shift
  local deadline=$((SECONDS + WAIT_S))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "$name did not answer within ${WAIT_S}s"
    sleep 0.5
  done
}

apt_install() {
  command -v apt-get >/dev/null || die "cannot install $*: no apt-get on this machine"
  say "installing $* with apt"
  if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit 2>/dev/null)" ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; }
redis_up() { [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }

ensure_postgres() {
  command -v pg_isready >/dev/null || apt_install postgresql
  if pg_up; then say "PostgreSQL answers on $PG_HOST:$PG_PORT"; return; fi
  say "starting PostgreSQL"
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
  [[ -n "$version" ]] || apt_install postgresql
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for PostgreSQL pg_up
  say "PostgreSQL answers on $PG_HOST:$PG_PORT"
}

ensure_redis() {
  command -v redis-server >/dev/null || apt_install redis-server
  if redis_up; then say "Redis answers on 127.0.0.1:$REDIS_PORT"; return; fi
  say "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/coupon.log
  wait_for Redis redis_up
  say "Redis answers on 127.0.0.1:$REDIS_PORT"
}

ensure_postgres
ensure_redis
"$REPO/scripts/kafka.sh" start
