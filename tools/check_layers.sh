#!/usr/bin/env bash
# check_layers.sh: fails when a pure core reaches for I/O, a clock, threads or randomness.
set -euo pipefail
cd "$(dirname "$0")/.."
cores="src/base src/raft src/check src/fd src/registry"
banned='<(uv\.h|stdio\.h|time\.h|sys/time\.h|pthread\.h|threads\.h|unistd\.h|fcntl\.h|lmdb\.h|sys/socket\.h|netinet/[a-z_]+\.h|arpa/inet\.h|netdb\.h|sys/random\.h|signal\.h|dirent\.h|sys/stat\.h)>'
status=0
for dir in $cores; do
    [ -d "$dir" ] || continue
    while IFS= read -r hit; do
        file=${hit%%:*}
        # base/assert.c is the one place allowed to print (a failed assertion).
        [ "$file" = src/base/assert.c ] && continue
        echo "check_layers: $hit: a pure core must not include this" >&2
        status=1
    done < <(grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*$banned" -r "$dir" --include='*.[ch]' || true)
    # Cores depend only on base/ and themselves.
    while IFS= read -r hit; do
        inc=$(echo "$hit" | sed -E 's/.*#include "([^"]+)".*/\1/')
        case "$inc" in
            base/*|raft/*|check/*|fd/*|registry/*) ;;
            *) echo "check_layers: $hit: a core may include only base/ and its own module" >&2; status=1 ;;
        esac
    done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' -r "$dir" --include='*.[ch]' || true)
done
# The simulator never touches libuv or real files.
if grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(uv\.h|lmdb\.h|sys/socket\.h|fcntl\.h)>' -r src/sim 2>/dev/null; then
    echo "check_layers: the simulator must not include I/O headers" >&2
    status=1
fi
# check_pure FILE WHAT GLOB...: FILE, listed as pure, includes no I/O header, and its quoted
# includes each match one of the GLOBs. The lists below are explicit because these files'
# directories also hold I/O shells.
check_pure() {
    local file=$1 what=$2 hit inc glob ok
    shift 2
    if [ ! -e "$file" ]; then
        echo "check_layers: $file: listed as $what but missing" >&2
        status=1
        return
    fi
    while IFS= read -r hit; do
        echo "check_layers: $file:$hit: $what must not include this" >&2
        status=1
    done < <(grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*$banned" "$file" || true)
    while IFS= read -r hit; do
        inc=$(echo "$hit" | sed -E 's/.*#include "([^"]+)".*/\1/')
        ok=0
        for glob in "$@"; do
            # shellcheck disable=SC2053 # the right side is a pattern
            [[ $inc == $glob ]] && ok=1
        done
        if [ "$ok" = 0 ]; then
            echo "check_layers: $file:$hit: $what may include only $*" >&2
            status=1
        fi
    done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" || true)
}
# Wire parsers are pure functions over bytes (STYLE 10), which is what makes each fuzzable:
# only base/, raft/raft.h and their own header.
parsers="src/net/peer_codec.h src/net/peer_codec.c src/api/resp.h src/api/resp.c"
parsers="$parsers src/kv/kv_cmd.h src/kv/kv_cmd.c src/kv/kv_glob.h src/kv/kv_glob.c"
parsers="$parsers src/api/http_parse.h src/api/http_parse.c src/api/json.h src/api/json.c"
for file in $parsers; do
    own=${file#src/}
    check_pure "$file" "a pure parser" 'base/*' raft/raft.h "${own%.*}.h"
done
# The DNS server's codec and answers, and the load balancer's policies and table, are pure
# too (what their unit tests and fuzzers drive without sockets): only base/ and their own
# module.
modules="src/dns/dns_msg.h src/dns/dns_msg.c src/dns/dns_name.h src/dns/dns_name.c"
modules="$modules src/dns/dns_write.c src/dns/dns_text.h src/dns/dns_text.c"
modules="$modules src/dns/dns_answer.h src/dns/dns_answer.c src/dns/dns_answer_internal.h"
modules="$modules src/dns/dns_answer_service.c"
modules="$modules src/lb/lb_policy.h src/lb/lb_policy.c src/lb/lb_table.h src/lb/lb_table.c"
for file in $modules; do
    module=${file#src/}
    check_pure "$file" "a pure module" 'base/*' "${module%%/*}/*"
done
[ $status -eq 0 ] && echo "check_layers: cores, parsers and pure modules are pure"
exit $status
