"""Automatic compaction (etcd's --auto-compaction-mode/--auto-compaction-retention) and the backend quota."""
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
        kv.close()
    finally:
        assert server.terminate() == 0
