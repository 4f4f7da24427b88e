#!/usr/bin/env bash
# Builds a release vigil and the Go load generator, then runs bench/run.py (all scenarios, or those named).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh build
for p in golang-go golang-etcd-server-dev etcd-server; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="${missing:-} $p"
done
if [ -n "${missing:-}" ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -q && $sudo apt-get install -y -q $missing
fi
swift build -c release --product vigil
mkdir -p bench/out
(cd bench/loadgen && GO111MODULE=off GOPATH=/usr/share/gocode go build -o ../out/loadgen .)
python3 bench/run.py "$@"
