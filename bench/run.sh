#!/usr/bin/env bash
# Runs Concord's benchmarks on this machine: builds release binaries, starts a fresh server
# (SQLite in a temporary data dir, a random free loopback port, limits raised so they do not
# get in the way), runs the load generator's scenarios against it and stops the server.
#
#   bench/run.sh                 # all scenarios: setup, throughput, fanout, idle
#   bench/run.sh throughput      # only some, in the order given
#   PERF=1 bench/run.sh setup throughput
#                                # also profile the server (perf) during each scenario but
#                                # setup; top symbols go to $PERF_DIR/concord-perf-<name>.txt
#
# Scenario sizes can be changed with environment variables (see the defaults below). Each
# report is printed and appended as a JSON line to $OUT (default bench/results.jsonl).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -eq 0 ] && SCENARIOS=(setup throughput fanout idle)

DURATION=${DURATION:-30}
WARMUP=${WARMUP:-5}
RATE=${RATE:-10000}
CLIENTS=${CLIENTS:-1000}
CHANNELS=${CHANNELS:-100}
FANOUT_RATE=${FANOUT_RATE:-1000}
FANOUT_CHANNELS=${FANOUT_CHANNELS:-10}
FANOUT_SENDERS=${FANOUT_SENDERS:-100}
IDLE_CLIENTS=${IDLE_CLIENTS:-10000}
IDLE_USERS=${IDLE_USERS:-$CLIENTS}
IDLE_HOLD=${IDLE_HOLD:-15}
SOURCE_IPS=${SOURCE_IPS:-4}
OUT=${OUT:-$ROOT/bench/results.jsonl}
PERF=${PERF:-}
PERF_DIR=${PERF_DIR:-/tmp}

echo "== building release binaries"
cargo build --release -p concord-server -p concord-bench
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
SERVER=$TARGET_DIR/release/concord
LOADGEN=$TARGET_DIR/release/concord-loadgen

# Enough descriptors for 10,000+ connections on each side.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

DATA=$(mktemp -d /tmp/concord-bench.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ADDR=127.0.0.1:$PORT
ADMIN_PASSWORD=bench-admin-password-$RANDOM$RANDOM
SERVER_PID=

stop_server() {
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$SERVER_PID" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$SERVER_PID" 2>/dev/null || true
	fi
	SERVER_PID=
}

# Starts a new server process on the data dir. Every measured scenario gets a fresh process,
# so memory the allocator kept from earlier work (Argon2id needs 19 MiB per login) does not
# hide or inflate what connections cost. Sessions live in the database and stay valid.
start_server() {
	"$SERVER" --data-dir "$DATA" serve --listen "$ADDR" >>"$DATA/server.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 1 100); do
		curl -fsS "http://$ADDR/healthz" >/dev/null 2>&1 && break
		sleep 0.1
	done
	curl -fsS "http://$ADDR/healthz" >/dev/null || { cat "$DATA/server.log"; exit 1; }
}

cleanup() {
	stop_server
	rm -rf "$DATA"
}
trap cleanup EXIT

export CONCORD_RATE_LIMITS__SENDS_PER_SECOND=1000000
export CONCORD_RATE_LIMITS__SEND_BURST=1000000
export CONCORD_RATE_LIMITS__LOGINS_PER_MINUTE_PER_IP=1000000
export CONCORD_RATE_LIMITS__LOGINS_PER_MINUTE_PER_ACCOUNT=1000000
export CONCORD_LIMITS__MAX_WS_CONNECTIONS=100000
export CONCORD_LOG__FILTER=warn

echo "== creating the admin in $DATA"
echo "$ADMIN_PASSWORD" | "$SERVER" --data-dir "$DATA" admin create-user --username admin --admin --password-stdin

# Not CONCORD_*: the server would warn that it is not one of its settings.
export LOADGEN_ADMIN_PASSWORD=$ADMIN_PASSWORD

for scenario in "${SCENARIOS[@]}"; do
	stop_server
	echo "== starting a server on $ADDR"
	start_server
	LG=("$LOADGEN" --server "http://$ADDR" --admin-user admin --server-pid "$SERVER_PID"
		--source-ips "$SOURCE_IPS" --token-cache "$DATA/tokens.json" --json "$OUT")
	case $scenario in
	setup)
		# Users and sessions for the other scenarios (Argon2id logins are slow; do them first).
		CMD=("${LG[@]}" setup --users "$CLIENTS" --channels "$CHANNELS")
		;;
	throughput)
		CMD=("${LG[@]}" run --clients "$CLIENTS" --channels "$CHANNELS" --rate "$RATE"
			--warmup "$WARMUP" --duration "$DURATION")
		;;
	fanout)
		# Same users, fewer and bigger channels: each message reaches CLIENTS/FANOUT_CHANNELS.
		CMD=("${LG[@]}" run --clients "$CLIENTS" --channels "$FANOUT_CHANNELS"
			--senders "$FANOUT_SENDERS" --rate "$FANOUT_RATE" --warmup "$WARMUP" --duration "$DURATION")
		;;
	idle)
		CMD=("${LG[@]}" idle --clients "$IDLE_CLIENTS" --users "$IDLE_USERS" --channels "$CHANNELS"
			--hold "$IDLE_HOLD")
		;;
	*)
		echo "unknown scenario $scenario (setup, throughput, fanout, idle)" >&2
		exit 2
		;;
	esac
	echo "== $scenario: ${CMD[*]}"
	PERF_PID=
	if [ -n "$PERF" ] && [ "$scenario" != setup ]; then
		perf record -F 499 -p "$SERVER_PID" -o "$PERF_DIR/concord-perf-$scenario.data" 2>/dev/null &
		PERF_PID=$!
	fi
	"${CMD[@]}"
	if [ -n "$PERF_PID" ]; then
		kill -INT "$PERF_PID" 2>/dev/null || true
		wait "$PERF_PID" 2>/dev/null || true
		{
			perf report -i "$PERF_DIR/concord-perf-$scenario.data" --sort comm --stdio 2>/dev/null
			perf report -i "$PERF_DIR/concord-perf-$scenario.data" --sort comm,dso,symbol --stdio 2>/dev/null
		} | grep -v '^$' | head -200 >"$PERF_DIR/concord-perf-$scenario.txt" || true
		echo "profile: $PERF_DIR/concord-perf-$scenario.txt"
	fi
	if ! kill -0 "$SERVER_PID" 2>/dev/null; then
		echo "the server died; its log:" >&2
		tail -50 "$DATA/server.log" >&2
		exit 1
	fi
done

echo "== server warnings and errors (last 20 lines)"
tail -20 "$DATA/server.log" || true
