"""Lease, Maintenance, Cluster and the auth handshake with stock clients, compared with a real etcd."""
import json
import re
import time

from conftest import run_client, wait_until
from test_kv_etcdctl import etcdctl, strip_identity
from test_watch_clients import WatchProcess


def lease_session(address):
    """etcdctl lease commands; lease IDs are replaced by placeholders so the two servers' outputs compare."""
    out = []
    ids = {}

    def run(*args, stdin=None):
        code, stdout, stderr = etcdctl(address, *args, stdin=stdin)
        text = stdout + (stderr.strip().splitlines()[-1] if code else "")
        for lease in re.findall(r"\b[0-9a-f]{16}\b", text):
            ids.setdefault(lease, f"<lease{len(ids)}>")
            text = text.replace(lease, ids[lease])
        shown = tuple(ids.get(arg, arg) for arg in args)
        out.append((shown, code, text))
        return stdout

    granted = run("lease", "grant", "60")
    lease = granted.split()[1]
    run("put", "--lease", lease, "a", "1")
    run("put", "--lease", lease, "b", "2")
    run("lease", "timetolive", lease, "--keys")
    run("lease", "list")
    run("lease", "keep-alive", "--once", lease)
    run("get", "a")
    run("lease", "revoke", lease)
    run("get", "", "--prefix")
    run("lease", "revoke", lease)
    run("lease", "timetolive", lease)
    run("lease", "keep-alive", "--once", lease)
    run("put", "--lease", "1234", "c", "3")
    run("lease", "grant", "9000000001")
    return out


def normalise_remaining(session):
    # The remaining TTL depends on timing, and etcd lists a lease's keys in Go map order (it varies from run to
    # run); everything else must match exactly.
    def normalise(text):
        text = re.sub(r"remaining\(\d+s\)", "remaining(N)", text)
        return re.sub(r"attached keys\(\[([^\]]*)\]\)",
                      lambda m: "attached keys([" + " ".join(sorted(m.group(1).split())) + "])", text)
    return [(args, code, normalise(text)) for args, code, text in session]


def test_etcdctl_lease_commands_match_etcd(vigil, etcd):
    assert normalise_remaining(lease_session(vigil.address)) == normalise_remaining(lease_session(etcd.address))


def test_lease_expiry_deletes_keys_in_one_revision_and_watchers_see_it(vigil):
    code, out, _ = etcdctl(vigil.address, "lease", "grant", "2")
    lease = out.split()[1]
    for key in ("x/2", "x/1", "x/3"):
        assert etcdctl(vigil.address, "put", "--lease", lease, key, "v")[0] == 0
    _, out, _ = etcdctl(vigil.address, "get", "x/1", "-w", "json")
    revision = json.loads(out)["header"]["revision"]
    watcher = WatchProcess(vigil.address, "x/", "--prefix", "--rev", str(revision + 1), "-w", "json")
    line = watcher.wait_lines(1, timeout=30)[0]
    watcher.stop()
    response = json.loads(line)
    events = response["Events"]
    assert [e.get("type") for e in events] == [1, 1, 1]
    import base64
    assert [base64.b64decode(e["kv"]["key"]) for e in events] == [b"x/1", b"x/2", b"x/3"]
    assert len({e["kv"]["mod_revision"] for e in events}) == 1, "one revision for the whole expiry"
    assert etcdctl(vigil.address, "get", "x/", "--prefix")[1] == ""


def test_endpoint_status_health_and_member_list(vigil, etcd):
    for address, expect_version in ((vigil.address, "3.5.13"), (etcd.address, None)):
        code, out, err = etcdctl(address, "endpoint", "health")
        assert code == 0 and "is healthy" in out + err
        code, out, _ = etcdctl(address, "endpoint", "status", "-w", "json")
        status = json.loads(out)[0]["Status"]
        assert status["leader"] == status["header"]["member_id"], "IS LEADER must be true"
        assert status["raftTerm"] >= 1 and status["header"]["cluster_id"] != 0
        if expect_version:
            assert status["version"] == expect_version
        code, out, _ = etcdctl(address, "member", "list", "-w", "json")
        members = json.loads(out)
        assert len(members["members"]) == 1
        member = members["members"][0]
        assert member["name"] and member["clientURLs"] == [f"http://{address}"]
        assert members["header"].get("revision", 0) == 0, "etcd leaves MemberList's header revision 0"
    code, _, err = etcdctl(vigil.address, "member", "add", "other", "--peer-urls", "http://127.0.0.1:1")
    assert code != 0 and "unhealthy cluster" in err
    code, _, err = etcdctl(vigil.address, "member", "remove", "1234")
    assert code != 0 and "member not found" in err


def test_move_leader_to_itself_succeeds_and_to_another_is_refused_as_etcd(vigil, etcd):
    answers = []
    for server in (vigil, etcd):
        _, out, _ = etcdctl(server.address, "endpoint", "status", "-w", "json")
        member = "%x" % json.loads(out)[0]["Status"]["header"]["member_id"]
        code, out, err = etcdctl(server.address, "move-leader", member)
        answers.append((code, out.replace(member, "ID")))
        code, out, err = etcdctl(server.address, "move-leader", "1234")
        answers.append((code, out, err.strip().splitlines()[-1]))
    assert answers[:2] == answers[2:]
    assert answers[0] == (0, "Leadership transferred from ID to ID\n")
    assert answers[1][2] == "Error: etcdserver: bad leader transferee"


def test_auth_handshake_while_auth_is_off(vigil, etcd):
    # A client configured with a user still works: Authenticate says auth is off, and clientv3 carries on.
    for address in (vigil.address, etcd.address):
        code, out, _ = etcdctl(address, "--user", "root:secret", "put", "k", "v")
        assert (code, out) == (0, "OK\n")


def test_python_clients_lease_and_status(vigil):
    assert "etcd3 lease ok" in run_client("etcd3_lease.py", vigil.port)
    assert "aetcd lease ok" in run_client("aetcd_lease.py", vigil.port)


def test_python_clients_maintenance(vigil, etcd):
    """status, hash, snapshot, compact and defragment through python-etcd3's and aetcd's own APIs; the same
    scripts pass against etcd."""
    for port in (vigil.port, etcd.port):
        assert "etcd3 maintenance ok" in run_client("etcd3_maintenance.py", port)
        assert "aetcd maintenance ok" in run_client("aetcd_maintenance.py", port)


def test_status_reports_the_database_files_and_the_quota(protos, tmp_path):
    """dbSize is what vigil.db and its write-ahead log take on disk, dbSizeInUse the pages holding data (both grow
    with the data), dbSizeQuota the quota: etcd's 2 GiB default, or --quota-backend-bytes."""
    import os
    from conftest import VigilProcess
    from kv_client import KVClient, outcome
    for extra, quota in (((), 2 << 30), (("--quota-backend-bytes", "5000000"), 5_000_000)):
        data_dir = tmp_path / f"quota-{quota}"
        server = VigilProcess(extra_args=extra, data_dir=str(data_dir))
        try:
            kv = KVClient(protos, server.address)
            maintenance = protos.rpc_pb2_grpc.MaintenanceStub(kv.channel)
            status = lambda: outcome(maintenance.Status, kv.pb.StatusRequest())[1]
            before = status()
            for i in range(50):
                assert kv.call("Put", key=b"k%d" % i, value=b"v" * 1000)[0] == "ok"
            after = status()
            on_disk = sum(os.path.getsize(data_dir / name) for name in ("vigil.db", "vigil.db-wal")
                          if (data_dir / name).exists())
            assert int(after["dbSize"]) == on_disk
            assert int(after["dbSizeInUse"]) > int(before["dbSizeInUse"]) and int(after["dbSizeInUse"]) >= 50_000
            assert int(after["dbSizeInUse"]) <= int(after["dbSize"])
            assert int(after["dbSizeQuota"]) == quota
            kv.close()
        finally:
            assert server.terminate() == 0


def test_defrag_gives_the_space_back_as_etcd_does(protos, vigil, etcd):
    """`etcdctl defrag` after deleting and compacting away ~2 MB of values: the same output from both servers, the
    database files shrink to a fraction, and what was kept is intact."""
    from kv_client import KVClient

    def session(address):
        kv = KVClient(protos, address)
        for i in range(100):
            assert kv.call("Put", key=b"big/%d" % i, value=b"x" * 20_000)[0] == "ok"
        kv.close()
        status = lambda: json.loads(etcdctl(address, "endpoint", "status", "-w", "json")[1])[0]["Status"]
        before = status()
        out = []
        for args in (("del", "--prefix", "big/"), ("put", "kept", "v")):
            code, stdout, stderr = etcdctl(address, *args)
            out.append((code, stdout, stderr))
        revision = status()["header"]["revision"]
        out.append(etcdctl(address, "compact", str(revision), "--physical"))
        out.append(etcdctl(address, "defrag"))
        out.append(etcdctl(address, "defrag", "--cluster"))
        after = status()
        out.append(etcdctl(address, "get", "", "--prefix"))
        assert after["dbSize"] * 4 < before["dbSize"], (before, after)
        assert after["dbSizeInUse"] <= after["dbSize"] and after["header"]["revision"] == revision
        return [(code, stdout.replace(address, "<address>"), stderr) for code, stdout, stderr in out]

    vigil_out = session(vigil.address)
    assert vigil_out[3] == (0, "Finished defragmenting etcd member[<address>]\n", "")
    assert vigil_out == session(etcd.address)


def test_endpoint_hashkv_matches_etcd(vigil, etcd):
    """`etcdctl endpoint hashkv` after the same writes gives etcd's hash: the stored histories are byte-equal (keys,
    values, create and mod revisions, versions, tombstones), through compactions and with every key deleted."""
    def session(address):
        url = f"http://{address}"
        out = []

        def hashkv():
            code, stdout, stderr = etcdctl(url, "endpoint", "hashkv")
            assert code == 0, stderr
            out.append(stdout.replace(url, "<endpoint>"))

        hashkv()
        for args in (("put", "a", "1"), ("put", "b", "2"), ("put", "a", "3"), ("del", "a")):
            result = etcdctl(url, *args)
            assert result[0] == 0, (args, result)
        assert etcdctl(url, "txn", stdin="\nput c 4\nput d 5\n\n\n")[0] == 0
        assert etcdctl(url, "put", "a", "6")[0] == 0
        hashkv()
        assert etcdctl(url, "compact", "5", "--physical")[0] == 0
        hashkv()
        assert etcdctl(url, "put", "b", "7")[0] == 0
        assert etcdctl(url, "compact", "8", "--physical")[0] == 0
        hashkv()
        assert etcdctl(url, "del", "--prefix", "")[0] == 0
        hashkv()
        return out

    assert session(vigil.address) == session(etcd.address)
