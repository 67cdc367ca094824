#!/usr/bin/env bash
# deps.sh: installs the Debian packages synod's build and tests need, when they are missing.
set -euo pipefail

# header or command -> Debian package
need=()
check_header() { [ -e "/usr/include/$1" ] || need+=("$2"); }
check_cmd() { command -v "$1" >/dev/null 2>&1 || need+=("$2"); }

check_cmd cc gcc
check_cmd clang clang
check_cmd make make
check_cmd python3 python3
check_header cmocka.h libcmocka-dev
check_header uv.h libuv1-dev
check_header lmdb.h liblmdb-dev
check_header jansson.h libjansson-dev
check_cmd redis-cli redis-tools
check_cmd ip iproute2 # network namespaces for tests/cluster/partition.sh
check_cmd curl curl
check_cmd dig bind9-dnsutils # tests/unit/test_dns_server.c asks the DNS server with dig
# Consul's Python client, for tests/cluster/http_kv.py (Debian's python3 runs it)
[ -e /usr/lib/python3/dist-packages/consul/__init__.py ] || need+=(python3-consul)

if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi
echo "synod: installing missing Debian packages: ${need[*]}"
if [ "$(id -u)" != 0 ]; then
    echo "synod: run as root, or install them by hand: apt-get install ${need[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
