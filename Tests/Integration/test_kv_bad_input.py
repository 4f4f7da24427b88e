"""Bad input to KV gets etcd's errors and changes nothing: malformed protobuf, oversized values, empty keys, absurd
limits and revisions — and other clients carry on."""
import shutil

import grpc
import pytest

from conftest import EtcdProcess, VigilProcess
from grpc_raw import unary
from kv_client import KVClient


def test_bad_requests_get_clear_errors_and_change_nothing(protos, vigil):
    kv = KVClient(protos, vigil.address)
    pb = kv.pb
    assert kv.call("Put", _request=pb.PutRequest(key=b"stable", value=b"1"))[0] == "ok"
    before = kv.call("Range", _request=pb.RangeRequest(key=b"\x00", range_end=b"\x00"))

    with grpc.insecure_channel(vigil.address) as channel:
        for method in ("Range", "Put", "DeleteRange", "Txn", "Compact"):
            with __import__("pytest").raises(grpc.RpcError) as error:
                unary(channel, f"/etcdserverpb.KV/{method}")(b"\x0a\xff\xff\xff", timeout=10)  # truncated field
            assert error.value.code() == grpc.StatusCode.INTERNAL
            assert "error unmarshalling request" in error.value.details()

    assert kv.call("Put", _request=pb.PutRequest(key=b"big", value=b"x" * (1572864 + 1))) == (
        "error", "INVALID_ARGUMENT", "etcdserver: request is too large")
    assert kv.call("Put", _request=pb.PutRequest(key=b"", value=b"x")) == (
        "error", "INVALID_ARGUMENT", "etcdserver: key is not provided")
    assert kv.call("Range", _request=pb.RangeRequest(key=b"stable", revision=2 ** 63 - 1)) == (
        "error", "OUT_OF_RANGE", "etcdserver: mvcc: required revision is a future revision")
    assert kv.call("Compact", _request=pb.CompactionRequest(revision=2 ** 63 - 1)) == (
        "error", "OUT_OF_RANGE", "etcdserver: mvcc: required revision is a future revision")
    assert kv.call("Compact", _request=pb.CompactionRequest(revision=-(2 ** 63))) == (
        "error", "OUT_OF_RANGE", "etcdserver: mvcc: required revision has been compacted")
    for limit in (-(2 ** 63), -1, 2 ** 63 - 1):
        status, body = kv.call("Range", _request=pb.RangeRequest(key=b"\x00", range_end=b"\x00", limit=limit))
        assert status == "ok" and body["kvs"] == before[1]["kvs"]
    for revision in (-(2 ** 63), -1):
        status, body = kv.call("Range", _request=pb.RangeRequest(key=b"stable", revision=revision))
        assert status == "ok" and len(body["kvs"]) == 1

    after = kv.call("Range", _request=pb.RangeRequest(key=b"\x00", range_end=b"\x00"))
    assert after == before, "bad requests changed the store"
    kv.close()


def test_max_txn_ops_flag_sets_the_limit_as_in_etcd(protos):
    if shutil.which("etcd") is None:
        pytest.skip("etcd-server is not installed (make test installs it)")
    servers = [VigilProcess(extra_args=["--max-txn-ops", "3"]), EtcdProcess(extra_args=["--max-txn-ops", "3"])]
    try:
        answers = []
        for server in servers:
            kv = KVClient(protos, server.address)
            pb = kv.pb
            puts = [pb.RequestOp(request_put=pb.PutRequest(key=b"t%d" % i, value=b"v")) for i in range(4)]
            compares = [pb.Compare(key=b"t%d" % i, target=pb.Compare.VERSION, result=pb.Compare.EQUAL, version=0)
                        for i in range(4)]
            answers.append([
                kv.call("Txn", _request=pb.TxnRequest(success=puts[:3]))[0],
                kv.call("Txn", _request=pb.TxnRequest(success=puts)),
                kv.call("Txn", _request=pb.TxnRequest(compare=compares, success=puts[:1])),
                kv.call("Txn", _request=pb.TxnRequest(failure=puts)),
            ])
            kv.close()
        ours, theirs = answers
        assert ours == theirs
        assert ours[0] == "ok"
        assert ours[1] == ("error", "INVALID_ARGUMENT", "etcdserver: too many operations in txn request")
    finally:
        servers[0].terminate()
        servers[1].terminate()
