"""Stock `etcdctl` (Debian's etcd-client) against Vigil, and the same commands against a real etcd."""
import json
import os
import subprocess

import pytest

ENV = dict(os.environ, ETCDCTL_API="3")


def etcdctl(address, *args, stdin=None):
    result = subprocess.run(["etcdctl", f"--endpoints={address}", "--command-timeout=10s", *args],
                            input=stdin, capture_output=True, text=True, env=ENV, timeout=60)
    return result.returncode, result.stdout, result.stderr


def normalised(stdout):
    """etcdctl output with the per-server identity removed from JSON lines."""
    lines = []
    for line in stdout.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            lines.append(line)
            continue
        lines.append(json.dumps(strip_identity(value), sort_keys=True))
    return lines


def strip_identity(value):
    if isinstance(value, dict):
        return {k: strip_identity(v) for k, v in value.items() if k not in ("cluster_id", "member_id", "raft_term")}
    if isinstance(value, list):
        return [strip_identity(v) for v in value]
    return value


SCRIPT = [
    ("put", "foo", "bar"),
    ("put", "foo1", "bar1"),
    ("put", "foo2", "bar2", "--prev-kv"),
    ("put", "foo", "baz", "--prev-kv", "-w", "json"),
    ("get", "foo"),
    ("get", "foo", "-w", "json"),
    ("get", "foo", "--prefix"),
    ("get", "foo", "--prefix", "--limit", "2", "-w", "json"),
    ("get", "foo1", "--from-key"),
    ("get", "", "--from-key", "--keys-only"),
    ("get", "foo", "--prefix", "--count-only", "-w", "json"),
    ("get", "foo", "--rev", "2"),
    ("get", "foo", "--prefix", "--sort-by", "MODIFY", "--order", "DESCEND"),
    ("get", "foo", "--prefix", "--sort-by", "VALUE", "--order", "ASCEND", "-w", "json"),
    ("get", "foo", "--prefix", "--sort-by", "CREATE", "--order", "DESCEND", "--keys-only"),
    ("get", "foo", "--prefix", "--sort-by", "VERSION"),
    ("get", "foo", "--rev", "1000"),
    ("get", "nothing", "-w", "json"),
    ("del", "foo1"),
    ("del", "foo", "--prefix", "--prev-kv"),
    ("del", "nothing"),
    ("get", "foo", "--prefix", "-w", "json"),
    ("put", "foo", "again"),
    ("get", "foo", "-w", "json"),
    ("compaction", "3"),
    ("get", "foo", "--rev", "2"),
    ("get", "foo", "--rev", "3"),
    ("compaction", "3"),
    ("compaction", "999"),
    ("put", "", "x"),
]

TXN = """value("foo") = "again"

put foo ok
get foo

put foo failed

"""

TXN_FAIL = """create("never") > "0"

put never x

put otherwise y
get otherwise

"""


def run_script(address):
    outcomes = []
    for command in SCRIPT:
        code, out, err = etcdctl(address, *command)
        outcomes.append((command, code, normalised(out), err.strip().splitlines()[-1:] if code else []))
    for script in (TXN, TXN_FAIL):
        for fmt in ([], ["-w", "json"]):
            code, out, err = etcdctl(address, "txn", *fmt, stdin=script)
            outcomes.append((("txn", *fmt), code, normalised(out), err.strip().splitlines()[-1:] if code else []))
    return outcomes


def test_etcdctl_basic_commands(vigil):
    assert etcdctl(vigil.address, "put", "k", "v")[:2] == (0, "OK\n")
    assert etcdctl(vigil.address, "get", "k")[:2] == (0, "k\nv\n")
    code, out, _ = etcdctl(vigil.address, "get", "k", "-w", "json")
    body = json.loads(out)
    assert body["header"]["revision"] == 2 and body["header"]["cluster_id"] != 0 and body["header"]["raft_term"] >= 1
    assert etcdctl(vigil.address, "del", "k")[:2] == (0, "1\n")
    code, _, err = etcdctl(vigil.address, "get", "k", "--rev", "99")
    assert code != 0 and "required revision is a future revision" in err
    code, out, err = etcdctl(vigil.address, "endpoint", "health")
    assert code == 0 and "is healthy" in out + err  # etcdctl 3.4 prints health on stderr


def test_etcdctl_script_matches_etcd(vigil, etcd):
    ours = run_script(vigil.address)
    theirs = run_script(etcd.address)
    for mine, reference in zip(ours, theirs):
        assert mine == reference, f"\nvigil: {mine}\netcd:  {reference}"


def put_in_transactions(kv, pairs, per_transaction):
    """Puts (key, value) pairs in transactions of `per_transaction` puts, in order."""
    pb = kv.pb
    for start in range(0, len(pairs), per_transaction):
        ops = [pb.RequestOp(request_put=pb.PutRequest(key=key, value=value))
               for key, value in pairs[start:start + per_transaction]]
        assert kv.call("Txn", _request=pb.TxnRequest(success=ops))[0] == "ok"


def assert_same_answers(ours, theirs):
    assert len(ours) == len(theirs)
    for index, (mine, reference) in enumerate(zip(ours, theirs)):
        assert mine == reference, f"read {index} differs"


def large_reads(protos, address):
    """2,500 keys written in transactions of 125, some overwritten and deleted, a compaction; then reads of more
    records than Vigil loads in one part (1,000), with every option that shapes them."""
    from kv_client import KVClient
    kv = KVClient(protos, address)
    pb = kv.pb
    try:
        put_in_transactions(kv, [(b"big/%05d" % i, b"v%d" % (i * 7919 % 2500)) for i in range(2500)], 125)
        middle = kv.call("Range", key=b"big/00000")[1]["header"]["revision"]
        for i in range(0, 2500, 3):
            assert kv.call("Put", key=b"big/%05d" % i, value=b"w%d" % i)[0] == "ok"
        assert kv.call("DeleteRange", key=b"big/01000", range_end=b"big/01100")[0] == "ok"
        assert kv.call("Compact", revision=int(middle))[0] == "ok"
        reads = [
            dict(key=b"big/", range_end=b"big0"),
            dict(key=b"big/", range_end=b"big0", revision=int(middle)),
            dict(key=b"big/", range_end=b"big0", limit=1500),
            dict(key=b"big/", range_end=b"big0", sort_order=pb.RangeRequest.DESCEND, sort_target=pb.RangeRequest.VALUE,
                 limit=1200),
            dict(key=b"big/", range_end=b"big0", sort_order=pb.RangeRequest.DESCEND, sort_target=pb.RangeRequest.KEY),
            # Keys written in one transaction tie here: Go's sort order among them, as etcd's.
            dict(key=b"big/", range_end=b"big0", sort_order=pb.RangeRequest.ASCEND, sort_target=pb.RangeRequest.MOD),
            dict(key=b"big/", range_end=b"big0", keys_only=True, min_mod_revision=int(middle) + 1),
            dict(key=b"big/", range_end=b"big0", count_only=True),
            dict(key=b"\0", range_end=b"\0", max_create_revision=int(middle)),
        ]
        return [kv.call("Range", **read) for read in reads]
    finally:
        kv.close()


def test_large_reads_match_etcd(protos, vigil, etcd):
    """Reads of thousands of keys (Vigil loads them in parts, off the event loop) give etcd's answers."""
    ours = large_reads(protos, vigil.address)
    assert_same_answers(ours, large_reads(protos, etcd.address))
    assert len(ours[0][1]["kvs"]) == 2400 and ours[2][1]["more"] is True


def tied_sorts(protos, address):
    """300 keys whose values, versions, create and mod revisions tie in groups; reads sorted by each target, both
    ways, with and without limits: etcd sorts with Go's (unstable) sort, whose order among ties is part of its
    answer."""
    from kv_client import KVClient
    kv = KVClient(protos, address)
    pb = kv.pb
    try:
        put_in_transactions(kv, [(b"tie/%03d" % i, b"abc"[i % 3:i % 3 + 1]) for i in range(300)], 100)
        for i in range(0, 300, 7):
            assert kv.call("Put", key=b"tie/%03d" % i, value=b"b")[0] == "ok"
        put_in_transactions(kv, [(b"tie/%03d" % i, b"c") for i in range(0, 300, 11)], 100)
        reads = []
        for target in (pb.RangeRequest.VALUE, pb.RangeRequest.VERSION, pb.RangeRequest.CREATE, pb.RangeRequest.MOD):
            for order in (pb.RangeRequest.ASCEND, pb.RangeRequest.DESCEND, pb.RangeRequest.NONE):
                for limit in (0, 40):
                    reads.append(dict(key=b"tie/", range_end=b"tie0", sort_target=target, sort_order=order,
                                      limit=limit, keys_only=True))
        return [kv.call("Range", **read) for read in reads]
    finally:
        kv.close()


def test_sorted_reads_with_ties_match_etcd(protos, vigil, etcd):
    assert_same_answers(tied_sorts(protos, vigil.address), tied_sorts(protos, etcd.address))
