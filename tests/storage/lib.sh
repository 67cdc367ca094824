# lib.sh: for the full-disk checks in tests/storage: a small tmpfs, always unmounted.
# Sourced after `cd` to the repository's root; sets MNT. tmpfs_mount SIZE (e.g. 1m) mounts
# it, or prints SKIP and exits 0 where that is not allowed (it needs root).

tmpfs_cleanup() {
    if mountpoint -q "$MNT" 2>/dev/null; then
        umount "$MNT"
    fi
    rmdir "$MNT"
}

tmpfs_mount() {
    MNT=$(mktemp -d /tmp/synod-enospc-XXXXXX)
    trap tmpfs_cleanup EXIT
    if ! mount -t tmpfs -o "size=$1" tmpfs "$MNT" 2>/dev/null; then
        echo "SKIP: cannot mount a tmpfs here (needs root): the real full-disk check did not run"
        exit 0
    fi
}

# test_binary NAME: the path of a built test program, or FAIL and exit 1.
test_binary() {
    local bin="${BUILD:-build}/tests/$1"
    if [ ! -x "$bin" ]; then
        echo "FAIL: $bin is not built" >&2
        exit 1
    fi
    echo "$bin"
}
