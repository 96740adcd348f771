# shellcheck shell=bash
# watchdog.sh: run a test phase under a deadline, so a hung test fails the run in minutes with
# the evidence, instead of stalling CI until its own limit kills it silently.
#
# Sourced after stack.sh (uses stack_log).

# watchdog_run SECONDS TRANSCRIPT DUMP_DIR COMMAND [ARGS...]
#   Runs COMMAND in a session of its own, its output shown and copied to TRANSCRIPT. If it is
#   still running after SECONDS: every thread of each Swift test runner is dumped with gdb into
#   DUMP_DIR, the tests that started and never finished are listed, the whole session is killed,
#   and the status is 124. Otherwise the status is COMMAND's.
watchdog_run() {
    local limit=$1 transcript=$2 dumps=$3
    shift 3
    local pid status=0 started=$SECONDS
    mkdir -p -- "$(dirname -- "$transcript")"
    # Line-buffered: a runner writing into a pipe otherwise holds its last lines back, and a hung
    # one never writes them.
    setsid --wait stdbuf -oL -eL "$@" > >(tee -- "$transcript") 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS - started >= limit)); then
            # Frozen first, so the dump is one moment and nothing writes after the report. By
            # session: swift test starts the runner in a process group of its own.
            pkill -STOP -s "$pid" 2>/dev/null
            watchdog_dump "$dumps" "$pid"
            pkill -KILL -s "$pid" 2>/dev/null
            pkill -CONT -s "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
            sleep 1 # let tee drain
            watchdog_report "$limit" "$transcript" "$dumps"
            return 124
        fi
        sleep 2
    done
    wait "$pid" || status=$?
    return "$status"
}

# watchdog_dump DUMP_DIR SESSION: every thread of each Swift test runner in SESSION, with gdb.
watchdog_dump() {
    local dumps=$1 session=$2 runner
    mkdir -p -- "$dumps"
    command -v gdb >/dev/null 2>&1 || (stack_apt_install gdb) >/dev/null 2>&1 || true
    for runner in $(pgrep -s "$session" -f 'PackageTests\.xctest' || true); do
        timeout 300 gdb -p "$runner" -batch -ex 'thread apply all bt' 2>&1 |
            swift demangle --simplified >"$dumps/threads-$runner.txt" || true
    done
}

# watchdog_report SECONDS TRANSCRIPT DUMP_DIR: what a hung run was doing, briefly on the terminal
# (CI shows the tail) and in full in DUMP_DIR.
watchdog_report() {
    local limit=$1 transcript=$2 dumps=$3 dump
    stack_log "HUNG: swift test was still running after ${limit}s and was killed"
    # Swift Testing prints "◇ Test NAME started." and then "✔ Test NAME passed" or "✘ Test NAME
    # failed"; the names left over are the tests that never ended.
    stack_log "tests that started and never finished:"
    awk '
        /◇ Test .* started\./ { name = $0; sub(/.*◇ Test /, "", name); sub(/ started\..*/, "", name); open[name]++ }
        /[✔✘] Test .* (passed|failed)/ { name = $0; sub(/.*[✔✘] Test /, "", name); sub(/ (passed|failed).*/, "", name); open[name]-- }
        END { for (name in open) if (open[name] > 0) print "  " name }
    ' "$transcript" | head -40 >&2 || true
    for dump in "$dumps"/threads-*.txt; do
        [[ -f $dump ]] || continue
        # Where each thread is in our code (its innermost frame in Shared/, Services/ or Tests/),
        # counted, so the tail of a CI log says where the run stuck. Tasks waiting on nothing hold
        # no thread and show only in the list above.
        stack_log "threads by their innermost frame in our code (all frames: $dump):"
        awk -v repo="$REPO/" '
            /^Thread / { searching = 1; next }
            searching && index($0, " at " repo) && !index($0, "/.build/") {
                frame = $0; sub(/^#[0-9]+ +(0x[0-9a-f]+ in )?/, "", frame)
                sub(/ \(.*\) at /, " at ", frame); sub(/ at .*\//, " at ", frame)
                print substr(frame, 1, 160); searching = 0
            }
        ' "$dump" | sort | uniq -c | sort -rn | head -25 >&2 || true
    done
}
