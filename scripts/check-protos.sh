#!/usr/bin/env bash
# Fails if the committed Sources/CEtcdProto differs from what scripts/generate-protos.sh produces now.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$root/scripts/generate-protos.sh" "$tmp"
if ! diff -r "$tmp/include" "$root/Sources/CEtcdProto/include" || ! diff -r "$tmp/generated" "$root/Sources/CEtcdProto/generated"; then
  echo "Sources/CEtcdProto is stale: run scripts/generate-protos.sh and commit the result" >&2
  exit 1
fi
echo "generated protobuf-c code is up to date"
