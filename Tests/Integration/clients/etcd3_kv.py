"""python-etcd3's KV API against a server: `python etcd3_kv.py PORT`. Exits non-zero on the first mismatch.

Run in its own interpreter: python-etcd3 registers its own copy of etcd's protos, which clashes with the copies
other clients (and the suite's generated stubs) register."""
import sys

import etcd3
import grpc

client = etcd3.client(host="127.0.0.1", port=int(sys.argv[1]), timeout=10)

# put / get / prefix / delete
client.put("/app/a", "1")
client.put("/app/b", "2")
client.put("/other", "3")
value, meta = client.get("/app/a")
assert value == b"1" and meta.version == 1 and meta.create_revision == 2, (value, meta.version, meta.create_revision)
assert sorted(v for v, _ in client.get_prefix("/app/")) == [b"1", b"2"]
assert [m.key for _, m in client.get_prefix("/app/", sort_order="descend")] == [b"/app/b", b"/app/a"]
assert [m.key for _, m in client.get_all()] == [b"/app/a", b"/app/b", b"/other"]
assert client.delete("/app/a") is True
assert client.delete("/app/a") is False
assert client.get("/app/a") == (None, None)
client.delete_prefix("/app/")
assert list(client.get_prefix("/app/")) == []

# transactions
client.put("/lock", "free")
ok, _ = client.transaction(compare=[client.transactions.value("/lock") == "free"],
                           success=[client.transactions.put("/lock", "taken")], failure=[])
assert ok
ok, responses = client.transaction(compare=[client.transactions.value("/lock") == "free"],
                                   success=[client.transactions.put("/lock", "again")],
                                   failure=[client.transactions.get("/lock")])
assert not ok and responses[0][0][0] == b"taken", responses
assert client.replace("/lock", "taken", "released")
assert client.get("/lock")[0] == b"released"
assert client.put_if_not_exists("/new", "v")
assert not client.put_if_not_exists("/new", "w")

# compaction
for i in range(5):
    client.put("/c", str(i))
revision = client.get("/c")[1].mod_revision
client.compact(revision - 1)
client.compact(revision, physical=True)
try:
    client.compact(revision)
    raise AssertionError("compacting twice at the same revision succeeded")
except grpc.RpcError as error:
    assert error.code() == grpc.StatusCode.OUT_OF_RANGE, error.code()
    assert error.details() == "etcdserver: mvcc: required revision has been compacted", error.details()
assert client.get("/c")[0] == b"4"
client.close()
print("etcd3 kv ok")
