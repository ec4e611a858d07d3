#!/usr/bin/env bash
# Time the README's first command (`scripts/setup.sh && .venv/bin/scanmatch demo`) on a fresh clone of this
# checkout (or of $1) until the demo prints "every verdict computed", then a second run on the same data.
# Usage: benchmarks/first_command.sh [REPO]; uses /tmp/fresh and port 8765.
set -u
src=$(realpath "${1:-.}")
rm -rf /tmp/fresh && git clone -q "$src" /tmp/fresh && cd /tmp/fresh
: > /tmp/fresh-1.log; : > /tmp/fresh-2.log
wait_for() {  # log, phrase, pid
  until grep -q "$2" "$1"; do sleep 2; kill -0 "$3" 2>/dev/null || { echo "died:"; tail -20 "$1"; return 1; }; done
}
start=$(date +%s)
setsid bash -c 'scripts/setup.sh && .venv/bin/scanmatch demo --port 8765' > /tmp/fresh-1.log 2>&1 &
pid=$!
wait_for /tmp/fresh-1.log "every verdict computed" $pid && echo "first run: $(( $(date +%s) - start )) s (load $(cut -d' ' -f1-3 /proc/loadavg))"
grep -n "scanmatch installed\|every verdict" /tmp/fresh-1.log
kill -- -$pid; sleep 5
start=$(date +%s)
setsid bash -c '.venv/bin/scanmatch demo --port 8765' > /tmp/fresh-2.log 2>&1 &
pid=$!
wait_for /tmp/fresh-2.log "every verdict computed" $pid && echo "second run: $(( $(date +%s) - start )) s (load $(cut -d' ' -f1-3 /proc/loadavg))"
kill -- -$pid
