#!/usr/bin/env bash
# raft_scripts.sh: runs every Raft interaction script (tests/scripts/raft/*.txt, STYLE 14)
# and fails on any difference from its expected output, printed as a diff.
# To accept a change in behaviour, rewrite the scripts and review the diff:
#     build/scripts/raft_script --rewrite tests/scripts/raft/*.txt && git diff tests/scripts/raft
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
bin=$BUILD/scripts/raft_script
scripts=(tests/scripts/raft/*.txt)
if [ ! -x "$bin" ]; then
    echo "raft_scripts: $bin is not built (make $bin)" >&2
    exit 1
fi
if "$bin" "${scripts[@]}"; then
    exit 0
fi
# Show what changed as a unified diff: rewrite copies and compare them with the originals.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "${scripts[@]}" "$tmp"/
"$bin" --rewrite "$tmp"/*.txt >/dev/null
diff -u tests/scripts/raft "$tmp"
exit 1
