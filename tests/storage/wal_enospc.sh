#!/usr/bin/env bash
# wal_enospc.sh: the WAL on a disk that really fills up. A 1 MiB tmpfs is mounted (root only;
# skipped with a message otherwise), the WAL writes and syncs until the kernel says ENOSPC,
# and must return SYN_ENOSPC, refuse further writes, and recover everything synced when
# reopened on the still-full disk. Run with and without preallocation. Always unmounts.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
bin="$BUILD/tests/test_wal"
if [ ! -x "$bin" ]; then
    echo "FAIL: $bin is not built"
    exit 1
fi
mnt=$(mktemp -d /tmp/synod-enospc-XXXXXX)
cleanup() {
    if mountpoint -q "$mnt" 2>/dev/null; then
        umount "$mnt"
    fi
    rmdir "$mnt"
}
trap cleanup EXIT
if ! mount -t tmpfs -o size=1m tmpfs "$mnt" 2>/dev/null; then
    echo "SKIP: cannot mount a tmpfs here (needs root): the real full-disk check did not run"
    exit 0
fi
status=0
for mode in "" "--no-preallocate"; do
    rm -rf "${mnt:?}"/*
    echo "== full disk ${mode:-(preallocating segments)}"
    if ! "$bin" --enospc "$mnt/wal" $mode; then
        status=1
    fi
done
exit $status
