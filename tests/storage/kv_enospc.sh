#!/usr/bin/env bash
# kv_enospc.sh: the store with write_map (LMDB writing through its map, as the agent runs it)
# on a disk that really fills up. A 96 MiB tmpfs is mounted (root only; skipped with a
# message otherwise); the store reserves its first blocks, a filler file takes the rest of
# the disk, and batches go on until one cannot reserve: it must fail with SYN_ENOSPC (a
# write into an unreserved hole would kill the process with SIGBUS), keep every committed
# batch, reopen on the full disk, and write again once there is room. Always unmounts.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/storage/lib.sh
bin=$(test_binary test_kv) || exit 1
tmpfs_mount 96m
"$bin" --enospc "$MNT"
