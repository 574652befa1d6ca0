#!/usr/bin/env bash
# Streams one large file (default 2 GiB of random bytes) into a fresh server and back out, and
# reports the server's peak resident memory (VmHWM) before and after: uploads and downloads
# stream, so the peak should not grow with the file. Usage:
#   bench/files/upload_large.sh [SIZE_MIB]          (uses $CARGO_TARGET_DIR/release/concord if
#                                                    built, else the debug binary)
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mib="${1:-2048}"
target="${CARGO_TARGET_DIR:-target}"
bin="$target/release/concord"
[ -x "$bin" ] || bin="$target/debug/concord"
[ -x "$bin" ] || { echo "build the server first (cargo build --release)"; exit 1; }
data="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
echo "bench-password-1" | "$bin" --data-dir "$data" admin create-user --username bench --password-stdin >/dev/null
CONCORD_FILES__MAX_UPLOAD_BYTES=$(( (size_mib + 1) * 1024 * 1024 )) CONCORD_LOG__FILTER=warn \
    "$bin" --data-dir "$data" serve --listen 127.0.0.1:0 > "$data/out" &
pid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$data/out" 2>/dev/null && break; sleep 0.1; done
addr=$(sed -n 's/.*listening on http:\/\/\([^ ]*\).*/\1/p' "$data/out" | head -n1)
api="http://$addr/api/v1"
token=$(curl -s "$api/auth/login" -H 'content-type: application/json' \
    -d '{"login":"bench","password":"bench-password-1"}' | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
channel=$(curl -s "$api/channels" -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"name":"bench","kind":"private"}' | sed -n 's/^{"id":\([0-9]*\).*/\1/p')
hwm() { awk '/VmHWM/ {print int($2/1024)}' "/proc/$pid/status"; }
echo "binary: $bin; file: $size_mib MiB"
echo "peak RSS before: $(hwm) MiB"
start=$(date +%s.%N)
file=$(head -c "$((size_mib * 1024 * 1024))" /dev/urandom \
    | curl -s -X POST -T - -H "authorization: Bearer $token" "$api/channels/$channel/files?name=big.bin" \
    | sed -n 's/^{"id":\([0-9]*\).*/\1/p')
mid=$(date +%s.%N)
echo "upload: $(echo "$mid - $start" | bc) s; peak RSS after upload: $(hwm) MiB"
bytes=$(curl -s -H "authorization: Bearer $token" "$api/files/$file/content" | wc -c)
end=$(date +%s.%N)
echo "download: $(echo "$end - $mid" | bc) s ($bytes bytes); peak RSS after download: $(hwm) MiB"
