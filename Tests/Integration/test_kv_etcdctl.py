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
