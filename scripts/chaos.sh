#!/usr/bin/env bash
# Fault test of the ingest path, on loopback: does the store end up holding exactly what the
# sensor wrote, whatever crashes on the way?
#
#   scripts/chaos.sh            # about 5 minutes after the build
#
# It starts Redis (appendonly, fsync always), the wiredraw server on it, and two collectors
# in live mode (one for conn-type logs, one for the detail logs, so details and their
# connections travel apart). It then plays Zeek: for every hour of the 3-day rita set it
# appends each log's lines to TYPE.log in three parts, writes the #close footer, and rotates
# the file the way zeekctl does (renamed into a dated folder, then gzipped). Meanwhile it
# kill -9s and restarts the server, restarts Redis (gracefully and with kill -9) and kill -9s
# the collectors. At the end examples/chaos_check.rs compares the store with the source:
# every conn uid stored exactly once, every detail attached, histogram totals equal to the
# source's sums. Its last line is
#   faults: S server kills, R redis restarts, C collector kills; records: N sent, N stored, 0 lost, 0 duplicated
#
# Environment: CHAOS_SOURCE (Zeek log folder, default ../shared/data/zeek/rita-missing-host),
# CHAOS_HOUR_SECS (wall seconds per log hour, default 2), CHAOS_FAULT_EVERY (seconds between
# faults, default 12), CHAOS_SEED (default 42), CHAOS_KEEP=1 keeps the work folder (logs).
set -euo pipefail
cd "$(dirname "$0")/.."

SOURCE=$(realpath "${CHAOS_SOURCE:-../shared/data/zeek/rita-missing-host}")
HOUR_SECS=${CHAOS_HOUR_SECS:-2}
FAULT_EVERY=${CHAOS_FAULT_EVERY:-12}
RANDOM=${CHAOS_SEED:-42}
BUCKET_SECS=10

echo "chaos: building (release)"
cargo build --release --example server --example collector --example chaos_check
BIN=$(realpath "${CARGO_TARGET_DIR:-target}")/release/examples

WORK=$(mktemp -d /tmp/wiredraw-chaos.XXXXXX)
REDIS_PORT=$((20000 + RANDOM % 10000))
SERVER_PORT=$((30000 + RANDOM % 10000))
STORE_URL="redis://127.0.0.1:$REDIS_PORT/0"
mkdir -p "$WORK/redis" "$WORK/zeek-conn" "$WORK/zeek-details" "$WORK/parts"

REDIS_PID= SERVER_PID= WRITER_PID=
declare -A COLLECTOR_PID=()

cleanup() {
  local pid
  for pid in "$WRITER_PID" "$SERVER_PID" "${COLLECTOR_PID[@]}"; do
    [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null || true
  done
  [[ -n $REDIS_PID ]] && kill -9 "$REDIS_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  if [[ ${CHAOS_KEEP:-0} == 1 ]]; then
    echo "chaos: work folder kept: $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

# --- processes ---------------------------------------------------------------------------

start_redis() {
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK/redis" \
    --appendonly yes --appendfsync always --save "" --daemonize no \
    >>"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 100); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return
    sleep 0.1
  done
  echo "chaos: redis did not start; see $WORK/redis.log" >&2
  exit 1
}

TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat >"$WORK/server.toml" <<EOF
listen = "127.0.0.1:$SERVER_PORT"
store = "$STORE_URL"
bucket_secs = $BUCKET_SECS
retention_secs = 0

[limits]
request_timeout_secs = 20

[[collectors]]
name = "chaos"
token_sha256 = "$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)"
EOF

start_server() {
  RUST_LOG=warn "$BIN/server" --config "$WORK/server.toml" >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
}

start_collector() { # NAME
  WIREDRAW_TOKEN=$TOKEN RUST_LOG=warn "$BIN/collector" --server "http://127.0.0.1:$SERVER_PORT" \
    --dir "$WORK/zeek-$1" --state "$WORK/state-$1.json" --batch-max-age-ms 200 \
    >>"$WORK/collector-$1.log" 2>&1 &
  COLLECTOR_PID[$1]=$!
}

kill9() { # PID
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# --- the Zeek imitation ------------------------------------------------------------------

# Which collector folder a log type goes to.
folder_of() {
  case $1 in
    conn | open_conn | conn-summary | capture_loss | stats) echo conn ;;
    *) echo details ;;
  esac
}

# Splits one archive into its header + first third, second third, last third + footer.
split_log() { # ARCHIVE PREFIX
  zcat "$1" >"$2.all"
  : >"$2.1"
  : >"$2.2"
  : >"$2.3"
  awk -v out="$2" '
    NR == FNR { if ($0 !~ /^#/) n++; next }
    /^#/ { print > (out (data ? ".3" : ".1")); next }
    { data++; print > (out (data <= n / 3 ? ".1" : data <= 2 * n / 3 ? ".2" : ".3")) }
  ' "$2.all" "$2.all"
  rm "$2.all"
}

play_zeek() {
  local day hour archive name type span folder part
  for day in $(ls "$SOURCE" | grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' | sort); do
    for hour in $(ls "$SOURCE/$day" | sed -nE 's/^[a-z_-]+\.([0-9:]{8}-[0-9:]{8})\.log\.gz$/\1/p' | sort -u); do
      local types=()
      for archive in "$SOURCE/$day"/*."$hour".log.gz; do
        name=$(basename "$archive")
        type=${name%%.*}
        if [[ $type == conn-summary ]]; then
          # zeekctl's text report lands in the archive folder beside the logs.
          mkdir -p "$WORK/zeek-conn/$day"
          cp "$archive" "$WORK/zeek-conn/$day/"
          continue
        fi
        split_log "$archive" "$WORK/parts/$type"
        types+=("$type")
      done
      for part in 1 2 3; do
        for type in "${types[@]}"; do
          cat "$WORK/parts/$type.$part" >>"$WORK/zeek-$(folder_of "$type")/$type.log"
        done
        sleep "$(awk -v s="$HOUR_SECS" 'BEGIN { print s / 3 }')"
      done
      # Rotation: rename into the day's folder, then gzip there (new inode, same content).
      for type in "${types[@]}"; do
        folder=$WORK/zeek-$(folder_of "$type")
        mkdir -p "$folder/$day"
        mv "$folder/$type.log" "$folder/$day/$type.$hour.log"
        gzip "$folder/$day/$type.$hour.log" &
      done
      wait
    done
  done
}

# --- the run -------------------------------------------------------------------------------

started=$SECONDS
start_redis
start_server
start_collector conn
start_collector details
play_zeek &
WRITER_PID=$!
echo "chaos: work folder $WORK; redis :$REDIS_PORT, server :$SERVER_PORT; playing $SOURCE"

server_kills=0 redis_restarts=0 collector_kills=0
faults=(server collector-conn redis-term server collector-details server redis-kill
  collectors server redis-term collector-conn server)
i=0
while kill -0 "$WRITER_PID" 2>/dev/null; do
  sleep "$FAULT_EVERY"
  kill -0 "$WRITER_PID" 2>/dev/null || break
  fault=${faults[i++ % ${#faults[@]}]}
  down=$((1 + RANDOM % 3))
  echo "chaos: $((SECONDS - started)) s: $fault (down ${down} s)"
  case $fault in
    server)
      kill9 "$SERVER_PID"
      server_kills=$((server_kills + 1))
      sleep "$down"
      start_server
      ;;
    redis-term | redis-kill)
      if [[ $fault == redis-term ]]; then
        redis-cli -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true
        wait "$REDIS_PID" 2>/dev/null || true
      else
        kill9 "$REDIS_PID"
      fi
      redis_restarts=$((redis_restarts + 1))
      sleep "$down"
      start_redis
      ;;
    collector-conn | collector-details)
      kill9 "${COLLECTOR_PID[${fault#collector-}]}"
      collector_kills=$((collector_kills + 1))
      sleep "$down"
      start_collector "${fault#collector-}"
      ;;
    collectors)
      kill9 "${COLLECTOR_PID[conn]}"
      kill9 "${COLLECTOR_PID[details]}"
      collector_kills=$((collector_kills + 2))
      sleep "$down"
      start_collector conn
      start_collector details
      ;;
  esac
done
wait "$WRITER_PID"
WRITER_PID=
echo "chaos: Zeek finished writing after $((SECONDS - started)) s; verifying"

# The collectors are still live: give them time to ship the last rotation, then judge.
set +e
"$BIN/chaos_check" --source "$SOURCE" --store "$STORE_URL" --bucket-secs "$BUCKET_SECS" \
  --wait-secs 240 --server-kills "$server_kills" --redis-restarts "$redis_restarts" \
  --collector-kills "$collector_kills" 2>"$WORK/chaos_check.log"
status=$?
set -e
if ((status != 0)); then
  tail -n 30 "$WORK/chaos_check.log" >&2
  CHAOS_KEEP=1
fi
exit "$status"
