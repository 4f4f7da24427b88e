"""The stock Go clientv3 (etcd 3.4's, built offline from Debian's golang-etcd-server-dev) against Vigil and a real
etcd: KV, Txn, Compact, Watch (created notify, prev_kv, progress request, replay, compaction; filters, a range,
from-key and a future start on one stream, watches ended by their context), Lease, Cluster and Maintenance calls,
each step's answer compared (identity fields left out by the client program, goclient/)."""
import json
import subprocess


def run(goclient, address):
    result = subprocess.run([goclient, "-endpoint", address], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, f"goclient failed against {address}:\n{result.stdout}\n{result.stderr}"
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_go_clientv3_matches_etcd(goclient, vigil, etcd):
    ours = run(goclient, vigil.address)
    theirs = run(goclient, etcd.address)
    assert [step["step"] for step in ours] == [step["step"] for step in theirs]
    for mine, reference in zip(ours, theirs):
        assert mine == reference, f"step {mine['step']!r} differs"
