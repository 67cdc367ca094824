#!/usr/bin/env bash
# wal_enospc.sh: the WAL on a disk that really fills up. A 1 MiB tmpfs is mounted (root only;
# skipped with a message otherwise), the WAL writes and syncs until the kernel says ENOSPC,
# and must return SYN_ENOSPC, refuse further writes, and recover everything synced when
# reopened on the still-full disk. Run with and without preallocation. Always unmounts.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/storage/lib.sh
bin=$(test_binary test_wal) || exit 1
tmpfs_mount 1m
status=0
for mode in "" "--no-preallocate"; do
    rm -rf "${MNT:?}"/*
    echo "== full disk ${mode:-(preallocating segments)}"
    if ! "$bin" --enospc "$MNT/wal" $mode; then
        status=1
    fi
done
exit $status
