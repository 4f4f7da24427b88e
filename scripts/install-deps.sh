#!/usr/bin/env bash
# Installs what building and testing Vigil needs, skipping whatever is already there:
#   build:  libnghttp2-dev libprotobuf-c-dev libsqlite3-dev libmimalloc-dev pkgconf
#           (runtime: libnghttp2-14 libprotobuf-c1 libsqlite3-0 libmimalloc2.0)
#   tests:  protobuf-c-compiler protobuf-compiler (regeneration check), etcd-client (etcdctl), etcd-server
#           (differential runs), nghttp2-client (h2load), golang-go and golang-etcd-server-dev (the stock Go
#           clientv3, built offline), python3-venv, and a Python venv in .venv with grpcio,
#           grpcio-tools, h2, pytest and the stock etcd clients etcd3 and aetcd.
# Usage: scripts/install-deps.sh build|test
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-test}

build_packages=(libnghttp2-dev libprotobuf-c-dev libsqlite3-dev libmimalloc-dev pkgconf)
test_packages=(protobuf-c-compiler protobuf-compiler etcd-client etcd-server nghttp2-client python3-venv golang-go
  golang-etcd-server-dev)
packages=("${build_packages[@]}")
[ "$mode" = test ] && packages+=("${test_packages[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
fi

if [ "$mode" = test ]; then
  venv="$root/.venv"
  stamp="$venv/.vigil-requirements"
  requirements="$root/Tests/Integration/requirements.txt"
  if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$stamp"; then
    echo "preparing the Python venv in .venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$requirements"
    cp "$requirements" "$stamp"
  fi
fi
