#!/bin/sh
# replay_clean.sh REPLAY CORPUS: runs a fuzz target's corpus replay with a
# TMPDIR of its own and fails when the replay fails or leaves anything there
# (each target writes its inputs to a scratch directory it must remove).
tmp=$(mktemp -d) || exit 1
TMPDIR=$tmp "$1" "$2"
status=$?
if ! rmdir "$tmp" 2>/dev/null; then
  echo "replay_clean.sh: $1 left files behind in its TMPDIR:" >&2
  ls -R "$tmp" >&2
  rm -rf "$tmp"
  exit 1
fi
exit $status
