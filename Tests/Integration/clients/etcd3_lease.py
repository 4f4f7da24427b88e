"""python-etcd3's lease, status and member APIs: `python etcd3_lease.py PORT`."""
import sys
import threading

import etcd3

client = etcd3.client(host="127.0.0.1", port=int(sys.argv[1]), timeout=10)
lease = client.lease(30)
assert 0 < lease.remaining_ttl <= 30 and lease.granted_ttl == 30
client.put("/leased/a", "1", lease=lease)
client.put("/leased/b", "2", lease=lease)
assert sorted(lease.keys) == [b"/leased/a", b"/leased/b"], lease.keys
assert lease.refresh()[0].TTL == 30
assert client.get("/leased/a")[1].lease_id == lease.id
lease.revoke()
assert list(client.get_prefix("/leased/")) == []

# Expiry reaches watchers as DELETE events.
short = client.lease(2)
client.put("/expiring", "x", lease=short)
events, cancel = client.watch("/expiring")
done = threading.Event()
seen = []


def consume():
    for event in events:
        seen.append(type(event).__name__)
        done.set()
        return


threading.Thread(target=consume, daemon=True).start()
assert done.wait(30), "no DELETE after the lease expired"
cancel()
assert seen == ["DeleteEvent"], seen

status = client.status()
assert status.version.startswith("3.5"), status.version
members = list(client.members)
assert len(members) == 1 and members[0].name
assert status.leader is not None and status.leader.id == members[0].id, "this member is the leader"
assert status.raft_term >= 1
client.close()
print("etcd3 lease ok")
