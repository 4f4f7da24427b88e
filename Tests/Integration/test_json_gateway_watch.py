"""etcd's JSON gateway for its streaming methods — `POST /v3/watch` (as `curl -N` watches), `/v3/lease/keepalive`,
`/v3/maintenance/snapshot` — with the chunked answer read line by line as it arrives. Watch scripts whose request
bodies are complete (`curl -d`) run against Vigil and a real etcd: every line equal once the identity fields are
masked. etcd's HTTP/1.1 server (Go's) answers only once a request body has ended; Vigil answers each request in a
body as it arrives, so a client can add and cancel watches on an open stream — checked on Vigil alone, as is that a
gateway watcher that stops reading loses nothing and that the watchers of a closed connection are removed."""
import base64
import hashlib
import http.client
import json
import re
import socket
import time
import urllib.request

from conftest import wait_until

IDENTITY = re.compile(r'"(cluster_id|member_id|raft_term)": "[0-9]+"')


def b64(text):
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


def post(address, path, body):
    """A unary gateway call; the decoded JSON answer."""
    host, port = address.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("POST", path, body=json.dumps(body))
        response = connection.getresponse()
        assert response.status == 200, (path, response.status, response.read())
        return json.loads(response.read())
    finally:
        connection.close()


class GatewayStream:
    """One `POST` to a streaming gateway path: the body goes out in chunks as the test sends requests, the answer's
    head and chunks are read as they arrive."""

    def __init__(self, address, path, body=None, timeout=30):
        """With `body` (requests), the whole body is sent at once, with its length; without, chunk by chunk."""
        host, port = address.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        head = f"POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n"
        if body is None:
            self.sock.sendall(f"{head}Transfer-Encoding: chunked\r\n\r\n".encode())
        else:
            data = "".join(json.dumps(request) for request in body).encode()
            self.sock.sendall(f"{head}Content-Length: {len(data)}\r\n\r\n".encode() + data)
        self.buffer = b""
        self.status = None
        self.headers = {}
        self.body = b""  # decoded body bytes not yet returned as lines
        self.ended = False

    def send(self, request):
        data = json.dumps(request).encode()
        self.sock.sendall(b"%x\r\n%s\r\n" % (len(data), data))

    def end_body(self):
        self.sock.sendall(b"0\r\n\r\n")

    def close(self):
        self.sock.close()

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise AssertionError("the server closed the connection")
        self.buffer += data

    def head(self):
        while self.status is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                self._fill()
                continue
            lines = self.buffer[:end].decode().split("\r\n")
            self.buffer = self.buffer[end + 4:]
            self.status = int(lines[0].split()[1])
            self.headers = {name.lower(): value.strip() for name, value in (l.split(":", 1) for l in lines[1:])}
        return self.status, self.headers

    def _chunk(self):
        """Decodes the next chunk of the body into `self.body`; False at the last chunk."""
        while b"\r\n" not in self.buffer:
            self._fill()
        size_line, rest = self.buffer.split(b"\r\n", 1)
        size = int(size_line, 16)
        while len(rest) < size + 2:
            self._fill()
            rest = self.buffer.split(b"\r\n", 1)[1]
        self.body += rest[:size]
        self.buffer = rest[size + 2:]
        if size == 0:
            self.ended = True
        return size > 0

    def line(self):
        """The next line of the answer, decoded; None when the body ended."""
        self.head()
        assert self.headers.get("transfer-encoding") == "chunked", self.headers
        while b"\n" not in self.body:
            if self.ended or not self._chunk():
                return None
        text, self.body = self.body.split(b"\n", 1)
        return json.loads(text)


def masked(answer):
    return json.loads(IDENTITY.sub(r'"\1": "X"', json.dumps(answer)))


def watch_script(address):
    """History replay, live events, a range with prev_kv and a filter, progress, cancel and a compacted start, each
    over a gateway stream whose body is complete; every line read, in order."""
    lines = []
    streams = []

    def watch(*requests):
        stream = GatewayStream(address, "/v3/watch", body=requests)
        streams.append(stream)
        return stream

    def expect(stream):
        line = masked(stream.line())
        lines.append(line)
        return line["result"]

    try:
        post(address, "/v3/kv/put", {"key": b64("foo"), "value": b64("bar")})  # revision 2
        history = watch({"create_request": {"key": b64("foo"), "start_revision": 1}})
        status, headers = history.head()
        assert status == 200 and headers["content-type"] == "application/json"
        assert expect(history)["created"] is True
        assert expect(history)["events"][0]["kv"]["mod_revision"] == "2"
        ranged = watch({"create_request": {"key": b64("f"), "range_end": b64("g"), "prev_kv": True,
                                           "filters": ["NODELETE"], "watch_id": 7}})
        assert expect(ranged)["watch_id"] == "7"
        post(address, "/v3/kv/put", {"key": b64("foo"), "value": b64("baz")})  # 3: both
        expect(history)
        assert expect(ranged)["events"][0]["prev_kv"]["value"] == b64("bar")
        post(address, "/v3/kv/put", {"key": b64("fop"), "value": b64("1")})  # 4: the range only
        expect(ranged)
        post(address, "/v3/kv/deleterange", {"key": b64("foo")})  # 5: the key only (the range filters deletes)
        assert expect(history)["events"][0]["type"] == "DELETE"
        post(address, "/v3/kv/put", {"key": b64("fop"), "value": b64("2")})  # 6: the range only
        assert expect(ranged)["events"][0]["kv"]["mod_revision"] == "6"
        progress = watch({"create_request": {"key": b64("foo")}}, {"progress_request": {}})
        expect(progress)
        assert expect(progress)["watch_id"] == "-1"
        cancel = watch({"create_request": {"key": b64("x"), "watch_id": 3}}, {"cancel_request": {"watch_id": 3}})
        expect(cancel)
        assert expect(cancel)["canceled"] is True
        post(address, "/v3/kv/compaction", {"revision": 5})
        compacted = watch({"create_request": {"key": b64("foo"), "start_revision": 2}})
        expect(compacted)  # created
        assert expect(compacted)["compact_revision"] == "5"  # then canceled: compacted
        post(address, "/v3/kv/put", {"key": b64("foo"), "value": b64("again")})  # 7
        for stream in (history, progress):
            assert expect(stream)["events"][0]["kv"]["mod_revision"] == "7"
    finally:
        for stream in streams:
            stream.close()
    return lines


def test_gateway_watch_answers_as_etcd(vigil, etcd):
    ours, theirs = watch_script(vigil.address), watch_script(etcd.address)
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs):
        assert mine == reference


def test_gateway_watch_takes_requests_while_it_answers(vigil):
    """One stream, its body sent in chunks: creates, a progress request and a cancel answered as they arrive; after
    the body ends the watches stay."""
    address = vigil.address
    stream = GatewayStream(address, "/v3/watch")

    def expect():
        return stream.line()["result"]

    try:
        post(address, "/v3/kv/put", {"key": b64("foo"), "value": b64("bar")})  # revision 2
        stream.send({"create_request": {"key": b64("foo"), "start_revision": 1}})
        assert expect()["created"] is True
        assert expect()["events"][0]["kv"]["mod_revision"] == "2"
        stream.send({"create_request": {"key": b64("f"), "range_end": b64("g"), "watch_id": 7}})
        assert expect()["watch_id"] == "7"
        post(address, "/v3/kv/put", {"key": b64("fop"), "value": b64("1")})  # 3: watch 7 only
        result = expect()
        assert result["watch_id"] == "7" and result["events"][0]["kv"]["key"] == b64("fop")
        stream.send({"cancel_request": {"watch_id": 7}})
        result = expect()
        assert result["watch_id"] == "7" and result["canceled"] is True
        post(address, "/v3/kv/put", {"key": b64("fop"), "value": b64("2")})  # 4: nobody watches fop now
        stream.send({"progress_request": {}})  # the next line proves no event came in between
        result = expect()
        assert result["watch_id"] == "-1" and result["header"]["revision"] == "4" and "events" not in result
        stream.end_body()
        post(address, "/v3/kv/put", {"key": b64("foo"), "value": b64("again")})  # 5
        assert expect()["events"][0]["kv"]["mod_revision"] == "5"
    finally:
        stream.close()


def raw_answer(address, path, body, method="POST"):
    host, port = address.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        connection.close()


def errors_and_other_streams(address):
    answers = []
    # A first request that cannot be read fails the call (code 2, HTTP 500); a wrong method is 405.
    status, content_type, body = raw_answer(address, "/v3/watch", "xx")
    answers.append((status, content_type, json.loads(body)))  # Go's words: invalid character 'x' looking for…
    status, content_type, body = raw_answer(address, "/v3/watch", '{"create_request":{"key":1}}')
    answers.append((status, content_type, json.loads(body)["code"]))
    status, _, body = raw_answer(address, "/v3/watch", "", method="GET")
    answers.append((status, body))
    # A bad request after a good one ends the requests; the good one is answered.
    lease = post(address, "/v3/lease/grant", {"TTL": 60})["ID"]
    status, _, body = raw_answer(address, "/v3/lease/keepalive", '{"ID":"%s"} xx' % lease)
    lines = [masked(json.loads(line)) for line in body.decode().splitlines()]
    answers.append((status, [line["result"]["TTL"] for line in lines]))
    # Snapshot: blobs, then the SHA-256 of everything before it.
    status, content_type, body = raw_answer(address, "/v3/maintenance/snapshot", "")
    blobs = [base64.b64decode(json.loads(line)["result"]["blob"]) for line in body.decode().splitlines()]
    assert len(blobs) >= 2 and hashlib.sha256(b"".join(blobs[:-1])).digest() == blobs[-1]
    answers.append((status, content_type))
    status, content_type, body = raw_answer(address, "/v3/maintenance/snapshot", "xx")
    answers.append((status, content_type, json.loads(body)))
    return answers


def test_gateway_stream_errors_keepalive_and_snapshot_as_etcd(vigil, etcd):
    assert errors_and_other_streams(vigil.address) == errors_and_other_streams(etcd.address)


def watchers(address):
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=30) as response:
        text = response.read().decode()
    return int(re.search(r"^etcd_debugging_mvcc_watcher_total (\d+)", text, re.M).group(1))


def test_gateway_watcher_that_stops_reading_loses_nothing_and_closing_removes_it(vigil, protos):
    import grpc
    rpc = protos.rpc_pb2
    channel = grpc.insecure_channel(vigil.address)
    kv = protos.rpc_pb2_grpc.KVStub(channel)
    stream = GatewayStream(vigil.address, "/v3/watch")
    other = GatewayStream(vigil.address, "/v3/watch")
    try:
        stream.send({"create_request": {"key": b64("p/"), "range_end": b64("p0")}})
        other.send({"create_request": {"key": b64("q")}})
        assert stream.line()["result"]["created"] and other.line()["result"]["created"]
        # 200 revisions of 100 puts of 1 KiB: ~27 MB of JSON, far more than the socket buffers hold while the
        # first stream is not read.
        value = b"v" * 1024
        for batch in range(200):
            kv.Txn(rpc.TxnRequest(success=[rpc.RequestOp(request_put=rpc.PutRequest(key=b"p/%03d/%03d" % (batch, i),
                                                                                      value=value))
                                            for i in range(100)]))
        # Writers were not held up, and a watcher on another connection gets its event at once.
        kv.Put(rpc.PutRequest(key=b"q", value=b"1"))
        assert other.line()["result"]["events"][0]["kv"]["mod_revision"] == "202"
        # The first stream now reads everything: each revision whole, in order, none missing.
        revision = 2
        while revision <= 201:
            events = stream.line()["result"]["events"]
            revisions = [int(event["kv"]["mod_revision"]) for event in events]
            assert revisions == sorted(revisions) and revisions[0] == revision, revisions[:3]
            for rev in sorted(set(revisions)):
                assert rev == revision and revisions.count(rev) == 100
                revision += 1
        assert watchers(vigil.address) == 2
        stream.close()
        other.close()
        wait_until(lambda: watchers(vigil.address) == 0, what="the closed connections' watchers to go")
    finally:
        stream.close()
        other.close()
        channel.close()


def test_gateway_watch_client_that_reads_nothing_is_held_back(vigil):
    """A client that streams watch creates into `POST /v3/watch` and reads none of the answers: once the answers
    fill the socket, Vigil stops reading the body, so TCP holds the client back instead of the answers piling up
    in the server's memory. Other clients are served meanwhile."""
    host, port = vigil.address.split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(b"POST /v3/watch HTTP/1.1\r\nHost: vigil\r\nTransfer-Encoding: chunked\r\n\r\n")
    sock.settimeout(2)
    sent, limit, blocked = 0, 600_000, False
    try:
        while sent < limit:
            body = b"".join(json.dumps({"create_request": {"key": b64("k%d" % (sent + i))}}).encode()
                            for i in range(500))
            sock.sendall(b"%x\r\n" % len(body) + body + b"\r\n")
            sent += 500
    except socket.timeout:
        blocked = True
    assert blocked, f"the server read {sent} creates whose answers nobody read"
    assert post(vigil.address, "/v3/kv/put", {"key": b64("other"), "value": b64("1")})["header"]["revision"]
    sock.close()
