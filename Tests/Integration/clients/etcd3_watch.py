"""python-etcd3's watch APIs against a server: iterator, callback, cancel, many watches on one connection, and a
compacted start. `python etcd3_watch.py PORT`."""
import sys
import threading

import etcd3
import etcd3.exceptions

client = etcd3.client(host="127.0.0.1", port=int(sys.argv[1]), timeout=10)
DEADLINE = 30

# Iterator API, from a past revision: replay then live.
client.put("/w/a", "1")
start = client.get("/w/a")[1].mod_revision
events_iterator, cancel = client.watch_prefix("/w/", start_revision=start)
client.put("/w/b", "2")
client.delete("/w/a")
seen = []
for event in events_iterator:
    seen.append((type(event).__name__, event.key, event.value))
    if len(seen) == 3:
        break
cancel()
assert seen == [("PutEvent", b"/w/a", b"1"), ("PutEvent", b"/w/b", b"2"), ("DeleteEvent", b"/w/a", b"")], seen

# Callback API: many watches on one connection; each gets exactly its own events.
received = {}
done = threading.Event()
lock = threading.Lock()


def make_callback(name):
    def callback(response):
        with lock:
            for event in response.events:
                received.setdefault(name, []).append(event.value)
            if sum(len(v) for v in received.values()) == 50:
                done.set()
    return callback


ids = [client.add_watch_callback("/cb/%d" % i, make_callback(i)) for i in range(50)]
for i in range(50):
    client.put("/cb/%d" % i, "v%d" % i)
assert done.wait(DEADLINE), received
assert received == {i: [b"v%d" % i] for i in range(50)}, received
for watch_id in ids:
    client.cancel_watch(watch_id)
client.put("/cb/0", "after-cancel")

# A start revision below the compaction point raises RevisionCompactedError with the compaction revision.
for i in range(3):
    client.put("/old", str(i))
revision = client.get("/old")[1].mod_revision
client.compact(revision)
iterator, cancel = client.watch("/old", start_revision=revision - 2)
try:
    next(iter(iterator))
    raise AssertionError("watch from a compacted revision did not fail")
except etcd3.exceptions.RevisionCompactedError as error:
    assert error.compacted_revision == revision, error.compacted_revision
client.close()
print("etcd3 watch ok")
