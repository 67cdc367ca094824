#!/usr/bin/env bash
# cli.sh: `synod` and `synod sim` exit codes and help.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
bin="$BUILD/synod"
status=0

expect() { # expect CODE ARGS...: the command exits with CODE
    local want=$1
    shift
    "$bin" "$@" >/dev/null 2>&1
    local rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL: synod $* exits $rc, expected $want"
        status=1
    else
        echo "ok: synod $* -> $rc"
    fi
}

expect 0 --help
expect 0 version
expect 2
expect 2 no-such-command
expect 0 sim --help
expect 2 sim
expect 2 sim --seed
expect 2 sim --seed x
expect 2 sim --seed 1 --seeds 2
expect 2 sim --seed 1 --from 3
expect 2 sim --seeds 0
expect 2 sim --seed 1 --nodes 8
expect 2 sim --seed 1 --nodes 3,x
expect 2 sim --seed 1 --mutant no-such-mutant
expect 2 sim --seed 1 --bogus
expect 0 sim --seed 1
expect 0 sim --seed 1 --nodes 5
expect 0 sim --seeds 3 --from 10 --nodes 3,5,7
"$bin" --help | grep -q 'sim' || { echo "FAIL: synod --help does not mention sim"; status=1; }
"$bin" sim --help | grep -q -- '--mutant' || { echo "FAIL: synod sim --help lacks --mutant"; status=1; }
exit "$status"
