#!/usr/bin/env bash
# run.sh: runs every test of `make test` and ends with "N passed, N failed".
# BUILD (build dir) and SAN (1 under sanitizers) come from make.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SAN=${SAN:-0}
passed=0
failed=0
failures=()

run() { # run NAME CMD...: one test step, bounded in time
    local name=$1
    shift
    local start=$SECONDS
    mkdir -p "$(dirname "$BUILD/test-$name.log")" # names like unit/test_raft have a folder
    if timeout 900 "$@" >"$BUILD/test-$name.log" 2>&1; then
        passed=$((passed + 1))
        printf 'PASS %-40s %4ss\n' "$name" $((SECONDS - start))
    else
        failed=$((failed + 1))
        failures+=("$name")
        printf 'FAIL %-40s %4ss  (log: %s)\n' "$name" $((SECONDS - start)) "$BUILD/test-$name.log"
        tail -n 30 "$BUILD/test-$name.log" | sed 's/^/    /'
    fi
}

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    run "unit/$(basename "$t")" "$t"
done

for t in tests/sim/*.sh tests/scripts/*.sh tests/storage/*.sh tests/cluster/[a-z]*.sh; do
    [ "$(basename "$t")" = lib.sh ] && continue
    [ -e "$t" ] || continue
    run "${t#tests/}" env BUILD="$BUILD" SAN="$SAN" bash "$t"
done

echo
if [ ${#failures[@]} -gt 0 ]; then
    echo "failed: ${failures[*]}"
fi
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
