"""python-etcd3's maintenance API — status, hash, snapshot, defragment: `python etcd3_maintenance.py PORT`."""
import hashlib
import io
import sys
import time

import etcd3

client = etcd3.client(host="127.0.0.1", port=int(sys.argv[1]), timeout=30)
for i in range(200):
    client.put("/m/%d" % i, "x" * 1000)
# etcd applies a put to its bolt file in a batch committed up to 100 ms later (the put itself is durable in its
# log by then), so its dbSize may lag the last puts: wait for it with a deadline.
deadline = time.monotonic() + 30
status = client.status()
while status.db_size <= 200_000 and time.monotonic() < deadline:
    time.sleep(0.05)
    status = client.status()
assert status.db_size > 200_000 and status.leader is not None, (status.db_size, status.leader)

before = client.hash()
assert client.hash() == before, "the hash of an unchanged store is stable"
client.put("/m/extra", "y")
assert client.hash() != before, "a write changes the hash"

snapshot = io.BytesIO()
client.snapshot(snapshot)
data = snapshot.getvalue()
assert len(data) % 512 == 32 and hashlib.sha256(data[:-32]).digest() == data[-32:], len(data)

client.delete_prefix("/m/")
client.put("/after", "z")
client.compact(client.get("/after")[1].mod_revision, physical=True)
client.defragment()
assert client.status().db_size < status.db_size / 4, client.status().db_size
assert client.get("/after")[0] == b"z"
print("etcd3 maintenance ok")
