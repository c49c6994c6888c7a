#!/usr/bin/env bash
# Runs a real, single-node Apache Kafka broker (KRaft, combined broker+controller)
# on loopback, without Docker: the broker's jars come from Maven Central through
# scripts/kafka/pom.xml. Everything lives under $KAFKA_HOME_DIR (git-ignored), except
# the classpath, which every broker shares:
#   $REPO/.local/kafka/libs/  classpath (assembled once by Maven; marker libs/.complete)
#   data/               log.dirs (formatted once with kafka.tools.StorageTool)
#   server.properties   generated on every start
#   broker.log          broker console output (Log4j 2, scripts/kafka/log4j2.xml)
#   kafka.pid           pid of the broker started by this script
#
# Usage: scripts/kafka.sh [start|stop|status]      (default: start)
#   start   idempotent: returns at once when a broker already answers on the port
#           (even one not started here); otherwise starts one in the background
#           and waits until it answers a metadata request.
#   stop    SIGTERM to the pid in kafka.pid, waits, then SIGKILL.
#   status  prints up/down; exit 0 when up, 1 when down.
#
# Environment:
#   KAFKA_HOME_DIR           state folder           (default $REPO/.local/kafka)
#   KAFKA_PORT               client port            (default 9092)
#   KAFKA_CONTROLLER_PORT    KRaft controller port  (default 9093)
#   KAFKA_START_TIMEOUT_S    max wait for readiness (default 120)
#   KAFKA_STOP_TIMEOUT_S     max wait for SIGTERM before SIGKILL (default 30)
#   KAFKA_HEAP_OPTS          JVM heap               (default "-Xms512m -Xmx1g")
#   JAVA_HOME                Java 17+ (else `java` on PATH)
# Needs: Java 17+, Maven (first run, unless libs are cached), node + `npm ci` (kafkajs).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
POM="$REPO/scripts/kafka/pom.xml"
LOG4J_CONFIG="$REPO/scripts/kafka/log4j2.xml"
READY_JS="$REPO/scripts/kafka-ready.mjs"

HOME_DIR="${KAFKA_HOME_DIR:-$REPO/.local/kafka}"
LIBS="$REPO/.local/kafka/libs"
LIBS_MARKER="$LIBS/.complete"
DATA="$HOME_DIR/data"
PROPS="$HOME_DIR/server.properties"
LOG="$HOME_DIR/broker.log"
PIDFILE="$HOME_DIR/kafka.pid"
LOCKFILE="$HOME_DIR/.lock"

HOST=127.0.0.1
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
START_TIMEOUT_S="${KAFKA_START_TIMEOUT_S:-120}"
STOP_TIMEOUT_S="${KAFKA_STOP_TIMEOUT_S:-30}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms512m -Xmx1g}"
BROKER="$HOST:$PORT"

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi

log() { printf 'kafka: %s\n' "$*"; }
err() { printf 'kafka: %s\n' "$*" >&2; }

kafka_version() {
  sed -n 's|.*<kafka.version>\(.*\)</kafka.version>.*|\1|p' "$POM" | head -n1
}

# TCP connect check without spawning node (bash's /dev/tcp), bounded to 1 s.
port_open() {
  timeout 1 bash -c ": </dev/tcp/$HOST/$1" 2>/dev/null
}

# One metadata round trip through kafkajs. $1 = timeout in seconds.
# Returns 0 ready, 1 not ready, 2 kafkajs missing. Last error in $READY_ERR.
READY_ERR=""
broker_ready() {
  local rc=0
  READY_ERR="$(node "$READY_JS" "$BROKER" "${1:-5}" 2>&1 >/dev/null)" || rc=$?
  return "$rc"
}

# pid from the pid file if that process is alive (not a zombie) and is our broker.
live_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid state
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/stat" ]] || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != Z ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
  printf '%s\n' "$pid"
}

fail_with_log() {
  err "$1 — see $LOG (last 20 lines below)"
  if [[ -f "$LOG" ]]; then tail -n 20 "$LOG" >&2; fi
  exit 1
}

check_tools() {
  command -v "$JAVA" >/dev/null 2>&1 || { err "java not found (need Java 17+; set JAVA_HOME)"; exit 1; }
  command -v node >/dev/null 2>&1 || { err "node not found (needed for $READY_JS)"; exit 1; }
  [[ -d "$REPO/node_modules/kafkajs" ]] || { err "kafkajs not installed: run 'npm ci' in $REPO first"; exit 1; }
}

# Assemble the classpath once; the marker records the version and the pom's hash,
# so a second run does not touch Maven (nor the network).
ensure_libs() {
  local version want
  version="$(kafka_version)"
  want="kafka_2.13 $version $(sha256sum "$POM" | cut -c1-16)"
  if [[ -f "$LIBS_MARKER" && "$(cat "$LIBS_MARKER")" == "$want" ]]; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || { err "mvn not found: needed once to fetch Kafka $version from Maven Central"; exit 1; }
  log "assembling Kafka $version classpath with Maven into $LIBS ..."
  local tmp="$LIBS.tmp"
  rm -rf "$tmp"
  if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" >"$HOME_DIR/mvn.log" 2>&1; then
    err "Maven could not assemble the Kafka classpath — see $HOME_DIR/mvn.log (last 20 lines below)"
    tail -n 20 "$HOME_DIR/mvn.log" >&2
    exit 1
  fi
  [[ -f "$tmp/kafka_2.13-$version.jar" ]] || { err "kafka_2.13-$version.jar missing after Maven run"; exit 1; }
  printf '%s\n' "$want" >"$tmp/.complete"
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
}

write_props() {
  cat >"$PROPS" <<EOF
# Generated by scripts/kafka.sh on every start — edit the script, not this file.
# Single-node KRaft (combined broker + controller) on loopback, for dev and tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA

# One node: every internal topic with replication factor 1 / min ISR 1.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
# Fewer internal partitions than the default 50: faster first group / transaction.
offsets.topic.num.partitions=10
transaction.state.log.num.partitions=10
share.coordinator.state.topic.num.partitions=10

# Tests: consumer groups start at once, topics appear on first use.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
num.partitions=3
delete.topic.enable=true
EOF
}

# Kafka cluster ids are 16 random bytes, base64url without padding (22 chars);
# like `kafka-storage random-uuid`, avoid a leading '-'. Saves a JVM start.
random_cluster_id() {
  local id
  while :; do
    id="$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    [[ "$id" != -* ]] && { printf '%s\n' "$id"; return; }
  done
}

ensure_formatted() {
  [[ -f "$DATA/meta.properties" ]] && return 0
  local cid
  cid="$(random_cluster_id)"
  log "formatting $DATA (cluster id $cid)"
  mkdir -p "$DATA"
  if ! "$JAVA" -Xmx256m -Dlog4j2.configurationFile="$LOG4J_CONFIG" -cp "$LIBS/*" \
    kafka.tools.StorageTool format -t "$cid" -c "$PROPS" >>"$LOG" 2>&1; then
    fail_with_log "StorageTool format failed"
  fi
}

# Wait until the broker answers metadata, the java process dies, or the timeout.
wait_ready() {
  local pid="$1" deadline=$((SECONDS + START_TIMEOUT_S)) rc
  while :; do
    if [[ -n "$pid" ]] && ! live_pid >/dev/null; then
      rm -f "$PIDFILE"
      fail_with_log "broker process $pid exited during start"
    fi
    if port_open "$PORT"; then
      rc=0
      broker_ready 5 || rc=$?
      [[ $rc -eq 0 ]] && return 0
      [[ $rc -eq 2 ]] && { err "$READY_ERR"; exit 1; }
    fi
    if ((SECONDS >= deadline)); then
      [[ -n "$pid" ]] && err "broker pid $pid is left running; 'scripts/kafka.sh stop' ends it"
      fail_with_log "broker did not answer on $BROKER within ${START_TIMEOUT_S}s${READY_ERR:+ ($READY_ERR)}"
    fi
    sleep 0.5
  done
}

cmd_start() {
  check_tools
  mkdir -p "$HOME_DIR"
  # Serialise concurrent starts. fd 9 is closed for the broker (9>&- below),
  # so the lock is released when this script exits.
  exec 9>"$LOCKFILE"
  flock -w "$((START_TIMEOUT_S + 60))" 9 || { err "another scripts/kafka.sh holds $LOCKFILE"; exit 1; }

  local pid
  if port_open "$PORT"; then
    if broker_ready 5; then
      log "already up on $BROKER$(pid="$(live_pid)" && printf ' (pid %s)' "$pid" || printf ' (not started by this script)')"
      return 0
    fi
    if pid="$(live_pid)"; then
      log "broker pid $pid is starting; waiting for $BROKER"
      wait_ready "$pid"
      log "up on $BROKER (pid $pid)"
      return 0
    fi
    err "port $PORT is taken by something that is not an answering Kafka broker${READY_ERR:+ ($READY_ERR)}"
    exit 1
  fi
  if pid="$(live_pid)"; then
    # Ours, alive, port not (yet) open: still booting.
    log "broker pid $pid is starting; waiting for $BROKER"
    wait_ready "$pid"
    log "up on $BROKER (pid $pid)"
    return 0
  fi
  rm -f "$PIDFILE"
  if port_open "$CONTROLLER_PORT"; then
    err "controller port $CONTROLLER_PORT is already in use (set KAFKA_CONTROLLER_PORT)"
    exit 1
  fi

  local t0=$SECONDS
  ensure_libs
  write_props
  : >>"$LOG"
  ensure_formatted
  printf '\n===== %s starting Kafka %s on %s =====\n' "$(date -u +%FT%TZ)" "$(kafka_version)" "$BROKER" >>"$LOG"

  # setsid: own session, so the broker outlives the calling shell and its
  # process group; the inner shell writes its own pid and execs java (same pid).
  # shellcheck disable=SC2086,SC2016
  (
    cd "$HOME_DIR"
    exec nohup setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PIDFILE" \
      "$JAVA" $HEAP_OPTS -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
      -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
      -Dlog4j2.configurationFile="$LOG4J_CONFIG" \
      -cp "$LIBS/*" kafka.Kafka "$PROPS" \
      >>"$LOG" 2>&1 </dev/null 9>&-
  ) &
  # Wait (briefly) for the pid file written by the inner shell.
  local _
  for _ in $(seq 1 50); do
    pid="$(cat "$PIDFILE" 2>/dev/null || true)"
    [[ -n "$pid" ]] && break
    sleep 0.1
  done
  [[ -n "$pid" ]] || fail_with_log "broker process did not start"
  log "started Kafka $(kafka_version) (pid $pid), waiting up to ${START_TIMEOUT_S}s for $BROKER"
  # Give exec a moment to replace the wrapper shell before the liveness check.
  sleep 0.3
  wait_ready "$pid"
  log "up on $BROKER (pid $pid) after $((SECONDS - t0))s; log: $LOG"
}

cmd_stop() {
  local pid
  if ! pid="$(live_pid)"; then
    rm -f "$PIDFILE"
    if port_open "$PORT"; then
      log "no broker started by this script; something else serves $BROKER — left alone"
    else
      log "not running"
    fi
    return 0
  fi
  log "stopping broker pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT_S))
  while live_pid >/dev/null; do
    if ((SECONDS >= deadline)); then
      err "pid $pid still alive after ${STOP_TIMEOUT_S}s — SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.2
  done
  rm -f "$PIDFILE"
  log "stopped"
}

cmd_status() {
  local pid=""
  pid="$(live_pid)" || true
  if port_open "$PORT" && broker_ready 5; then
    log "up on $BROKER${pid:+ (pid $pid)}"
    return 0
  fi
  if [[ -n "$pid" ]]; then
    log "down: pid $pid alive but $BROKER not answering${READY_ERR:+ ($READY_ERR)}"
  else
    log "down"
  fi
  return 1
}

case "${1:-start}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    err "usage: $0 [start|stop|status]"
    exit 2
    ;;
esac
