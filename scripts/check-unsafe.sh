#!/usr/bin/env bash
# Fails if unsafe C interop appears outside the files allowed to hold it (docs/design.md, "Where unsafe code lives").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
allowed='^Sources/GRPCServer/Connection/Nghttp[^/]*\.swift$|^Sources/GRPCServer/Framing/MessageWriter\.swift$|^Sources/EtcdProto/Codec/[^/]*\.swift$|^Sources/Persistence/SQLite/[^/]*\.swift$'
bad=$(grep -rlE 'Unsafe|Unmanaged|OpaquePointer|withUnsafe' Sources --include='*.swift' | grep -vE "$allowed" || true)
if [ -n "$bad" ]; then
  echo "unsafe code outside the allowlist:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "unsafe code stays in its allowlisted files"
