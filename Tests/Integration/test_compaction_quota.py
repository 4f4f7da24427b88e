"""Automatic compaction (etcd's --auto-compaction-mode/--auto-compaction-retention) and the backend quota."""
import os
import subprocess

from conftest import VigilProcess, wait_until
from kv_client import KVClient, outcome


def test_periodic_auto_compaction(protos):
    server = VigilProcess(extra_args=["--auto-compaction-mode", "periodic", "--auto-compaction-retention", "2s"])
    try:
        kv = KVClient(protos, server.address)
        pb = kv.pb
        for i in range(5):
            kv.call("Put", _request=pb.PutRequest(key=b"k", value=b"%d" % i))

        def compacted():
            outcome = kv.call("Range", _request=pb.RangeRequest(key=b"k", revision=2))
            return outcome == ("error", "OUT_OF_RANGE", "etcdserver: mvcc: required revision has been compacted")

        wait_until(compacted, timeout=60, what="periodic auto-compaction")
        status, body = kv.call("Range", _request=pb.RangeRequest(key=b"k"))
        assert status == "ok" and body["kvs"][0]["value"] == "NA=="  # the latest value is kept
        kv.close()
    finally:
        assert server.terminate() == 0


def test_quota_refuses_writes_that_add_data(protos):
    server = VigilProcess(extra_args=["--quota-backend-bytes", "50000"])
    try:
        kv = KVClient(protos, server.address)
        pb = kv.pb
        assert kv.call("Put", key=b"pad", value=b"p")[0] == "ok"
        result = None
        for i in range(200):
            result = kv.call("Put", _request=pb.PutRequest(key=b"big/%d" % i, value=b"x" * 1024))
            if result[0] == "error":
                break
        assert result == ("error", "RESOURCE_EXHAUSTED", "etcdserver: mvcc: database space exceeded")
        # etcd checks its quota for lease grants too (3.4.23: "failed to grant lease (etcdserver: mvcc: database
        # space exceeded)").
        lease = outcome(protos.rpc_pb2_grpc.LeaseStub(kv.channel).LeaseGrant, pb.LeaseGrantRequest(TTL=10))
        assert lease == ("error", "RESOURCE_EXHAUSTED", "etcdserver: mvcc: database space exceeded")
        # Nothing half-written, reads and deletes still work.
        status, body = kv.call("DeleteRange", _request=pb.DeleteRangeRequest(key=b"big/", range_end=b"big0"))
        assert status == "ok" and int(body["deleted"]) == i
        # As in etcd, the NOSPACE alarm stays raised after the space is freed: writes that add data are refused
        # until an operator disarms it (etcd 3.4.23 by hand: delete, compact, defrag, put refused; `alarm disarm`
        # prints the alarm; put OK). One more delete first, so that compaction drops the big values entirely (at
        # the revision of their deletion it keeps them, for the DELETE events' prev_kv).
        status, body = kv.call("DeleteRange", key=b"pad")
        assert status == "ok" and int(body["deleted"]) == 1
        status, body = kv.call("Compact", revision=int(body["header"]["revision"]), physical=True)
        assert status == "ok"
        assert kv.call("Put", key=b"small", value=b"v")[1:] == ("RESOURCE_EXHAUSTED",
                                                               "etcdserver: mvcc: database space exceeded")
        member_id = status_member_id(protos, kv)
        code, out, err = etcdctl(server.address, "alarm", "list")
        assert (code, out) == (0, f"memberID:{member_id} alarm:NOSPACE \n"), err
        code, out, err = etcdctl(server.address, "alarm", "disarm")
        assert (code, out) == (0, f"memberID:{member_id} alarm:NOSPACE \n"), err
        assert etcdctl(server.address, "alarm", "list")[:2] == (0, "")
        assert kv.call("Put", key=b"small", value=b"v")[0] == "ok"
        kv.close()
    finally:
        assert server.terminate() == 0


def status_member_id(protos, kv):
    """The member ID in a response header (not normalised away: taken from the raw response)."""
    response = protos.rpc_pb2_grpc.MaintenanceStub(kv.channel).Status(kv.pb.StatusRequest(), timeout=10)
    return response.header.member_id


def etcdctl(address, *args):
    result = subprocess.run(["etcdctl", f"--endpoints={address}", "--command-timeout=10s", *args],
                            capture_output=True, text=True, timeout=60, env=dict(os.environ, ETCDCTL_API="3"))
    return result.returncode, result.stdout, result.stderr
