# A Redis that keeps what the service accepts (AOF on, maxmemory-policy noeviction), for the run and
# test commands. The Redis on 127.0.0.1:6379 is a shared service this project never reconfigures:
# when it persists it is used; when it does not, a Redis of this project's own is started on
# REDIS_DURABLE_PORT (default 6390) with AOF, its data in .local/redis. Sourced by scripts.

# Prints "yes" when the Redis on $1 persists: appendonly yes and maxmemory-policy noeviction.
redis_persists() {
  local port=$1 aof policy
  aof=$(redis-cli -h 127.0.0.1 -p "$port" config get appendonly 2>/dev/null | sed -n 2p)
  policy=$(redis-cli -h 127.0.0.1 -p "$port" config get maxmemory-policy 2>/dev/null | sed -n 2p)
  [[ "$aof" == yes && "$policy" == noeviction ]]
}

# Sets DURABLE_REDIS_URL to a Redis that persists, starting this project's own when needed, and
# DURABLE_REDIS_STARTED=1 when this call started it. Messages go to stderr.
ensure_durable_redis() {
  local repo=$1 shared_port=6379 port="${REDIS_DURABLE_PORT:-6390}" dir
  DURABLE_REDIS_STARTED=0
  if redis_persists "$shared_port"; then
    DURABLE_REDIS_URL="redis://127.0.0.1:$shared_port"
    return 0
  fi
  DURABLE_REDIS_URL="redis://127.0.0.1:$port"
  if [[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == PONG ]]; then
    if redis_persists "$port"; then return 0; fi
    echo "redis: 127.0.0.1:$port answers but does not persist (AOF off or eviction on); set REDIS_DURABLE_PORT to a free port" >&2
    return 1
  fi
  dir="$repo/.local/redis"
  mkdir -p "$dir"
  echo "redis: the Redis on 127.0.0.1:$shared_port does not persist; starting one with AOF on 127.0.0.1:$port ($dir)" >&2
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --dir "$dir" \
    --appendonly yes --appendfsync "${REDIS_FSYNC:-everysec}" --maxmemory-policy noeviction \
    --save "" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >&2
  local deadline=$((SECONDS + 30))
  until [[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == PONG ]]; do
    if ((SECONDS >= deadline)); then
      echo "redis: the Redis with AOF on 127.0.0.1:$port did not answer within 30 s (see $dir/redis.log)" >&2
      return 1
    fi
    sleep 0.2
  done
  DURABLE_REDIS_STARTED=1
}

# Stops this project's own Redis (the AOF stays in .local/redis for the next start).
stop_durable_redis() {
  local port="${REDIS_DURABLE_PORT:-6390}"
  redis-cli -h 127.0.0.1 -p "$port" shutdown >/dev/null 2>&1 || true
}
