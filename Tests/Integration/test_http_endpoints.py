"""Plain HTTP/1.1 on the client port, next to gRPC, as etcd serves it: `/health`, `/version`, `/metrics`, and Go's
answers to other paths and methods. Compared with a real etcd where the two releases agree (etcd here is 3.4.23;
Vigil reports 3.5.13, whose /health adds a "reason")."""
import http.client
import json
import os
import socket
import subprocess

import grpc

from conftest import EtcdProcess, VigilProcess, free_port, wait_until, VIGIL_BIN

ENV = dict(os.environ, ETCDCTL_API="3")


def request(address, path, method="GET", headers=None, body=None):
    """One request on a fresh connection: (status, headers, body)."""
    host, port = address.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def metrics(address):
    """/metrics as {family: (type, {sample line name+labels: value})}."""
    status, headers, body = request(address, "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    families = {}
    for line in body.decode().splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            families[name] = (kind, {})
        elif line and not line.startswith("#"):
            sample, value = line.rsplit(" ", 1)
            name = sample.split("{")[0]
            family = next(f for f in (name, name.rsplit("_", 1)[0]) if f in families)
            families[family][1][sample] = value
    return families


def etcdctl(address, *args):
    result = subprocess.run(["etcdctl", f"--endpoints={address}", *args], capture_output=True, text=True, env=ENV,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_health_version_and_errors_match_etcd(vigil, etcd):
    for server in (vigil, etcd):
        status, headers, body = request(server.address, "/health")
        assert status == 200 and headers["Content-Type"] == "text/plain; charset=utf-8"
        assert json.loads(body)["health"] == "true"
        status, headers, body = request(server.address, "/version")
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert set(json.loads(body)) == {"etcdserver", "etcdcluster"}
    assert json.loads(request(vigil.address, "/health")[2]) == {"health": "true", "reason": ""}
    for path, method in (("/health", "POST"), ("/version", "DELETE"), ("/nothing", "GET"), ("/", "GET")):
        ours, theirs = request(vigil.address, path, method), request(etcd.address, path, method)
        assert ours[0] == theirs[0], f"{method} {path}"
        assert ours[2] == theirs[2], f"{method} {path}"
        assert ours[1].get("Allow") == theirs[1].get("Allow")
        assert ours[1]["Content-Type"] == theirs[1]["Content-Type"]


def test_metrics_are_etcds_families_with_etcds_values(vigil, etcd):
    for server in (vigil, etcd):
        for i in range(3):
            etcdctl(server.address, "put", f"k{i}", "v")
    ours, theirs = metrics(vigil.address), metrics(etcd.address)
    assert "etcd_debugging_mvcc_current_revision" in ours and len(ours) >= 10
    for family, (kind, _) in ours.items():
        assert family in theirs, f"{family} is no etcd metric"
        assert theirs[family][0] == kind, f"{family}: {kind}, etcd's is {theirs[family][0]}"
    for family in ("etcd_debugging_mvcc_current_revision", "etcd_debugging_mvcc_compact_revision",
                   "etcd_server_has_leader", "etcd_server_is_leader", "etcd_server_is_learner",
                   "etcd_server_quota_backend_bytes"):
        assert ours[family][1] == theirs[family][1], family
    # The watch gauges follow a watch's life on both.
    watches = [subprocess.Popen(["etcdctl", f"--endpoints={server.address}", "watch", "k0"], env=ENV,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for server in (vigil, etcd)]
    try:
        for server in (vigil, etcd):
            wait_until(lambda: metrics(server.address)["etcd_debugging_mvcc_watcher_total"][1]
                       == {"etcd_debugging_mvcc_watcher_total": "1"}, what="the watcher to count")
    finally:
        for watch in watches:
            watch.kill()
            watch.wait()
    for server in (vigil, etcd):
        wait_until(lambda: metrics(server.address)["etcd_debugging_mvcc_watcher_total"][1]
                   == {"etcd_debugging_mvcc_watcher_total": "0"}, what="the watcher to go")


def test_an_alarm_makes_health_false(vigil, etcd, protos):
    pb = protos.rpc_pb2
    for server in (vigil, etcd):
        with grpc.insecure_channel(server.address) as channel:
            maintenance = protos.rpc_pb2_grpc.MaintenanceStub(channel)
            member = maintenance.Status(pb.StatusRequest(), timeout=10).header.member_id
            maintenance.Alarm(pb.AlarmRequest(action=pb.AlarmRequest.ACTIVATE, memberID=member,
                                              alarm=pb.NOSPACE), timeout=10)
        status, _, body = request(server.address, "/health")
        assert status == 503 and json.loads(body)["health"] == "false"
    assert json.loads(request(vigil.address, "/health")[2]) == {"health": "false", "reason": "ALARM NOSPACE"}
    assert request(vigil.address, "/health?exclude=NOSPACE")[0] == 200
    assert metrics(vigil.address)["etcd_server_health_failures"][1] == {"etcd_server_health_failures": "2"}


def test_http_and_grpc_share_the_port(vigil):
    host, port = vigil.address.split(":")
    # Keep-alive: several requests on one connection, each answered in turn.
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    for path in ("/health", "/version", "/health"):
        connection.request("GET", path)
        response = connection.getresponse()
        assert response.status == 200 and response.read()
    # gRPC on the same port meanwhile.
    assert etcdctl(vigil.address, "put", "shared", "port").strip() == "OK"
    connection.request("HEAD", "/metrics")
    response = connection.getresponse()
    assert response.status == 200 and int(response.getheader("Content-Length")) > 0 and response.read() == b""
    connection.close()
    # A request the parser cannot take ends that connection with 400, and only that one.
    bad = socket.create_connection((host, int(port)), timeout=10)
    bad.sendall(b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n" + b"\x00" * 100)
    received = b""
    while chunk := bad.recv(65536):
        received += chunk
    bad.close()
    assert received.startswith(b"HTTP/1.1 200 OK") and b"HTTP/1.1 400 Bad Request" in received
    assert etcdctl(vigil.address, "get", "shared", "--print-value-only").strip() == "port"
    # HTTP/1.0 (no keep-alive): answered, then closed.
    old = socket.create_connection((host, int(port)), timeout=10)
    old.sendall(b"GET /health HTTP/1.0\r\n\r\n")
    received = b""
    while chunk := old.recv(65536):
        received += chunk
    old.close()
    assert received.startswith(b"HTTP/1.0 200 OK") and received.endswith(b'{"health":"true","reason":""}')


def test_a_single_member_etcd_command_line_starts_vigil_with_a_metrics_listener(tmp_path):
    metrics_port, peer_port = free_port(), free_port()
    server = VigilProcess(extra_args=[
        "--name", "n1", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
        "--listen-peer-urls", f"http://127.0.0.1:{peer_port}", "--initial-cluster", f"n1=http://127.0.0.1:{peer_port}",
        "--initial-cluster-state", "new", "--initial-cluster-token", "t", "--snapshot-count", "10000",
        "--heartbeat-interval", "100", "--election-timeout", "1000",
        "--listen-metrics-urls", f"http://127.0.0.1:{metrics_port}",
        # Tuning of what Vigil does not have (raft, bbolt, pprof, v2, auth, the client ping limit): accepted, named in
        # the log; and etcd's keepalive defaults, which Vigil applies.
        "--pre-vote", "--strict-reconfig-check=false", "--experimental-initial-corrupt-check=true", "--enable-v2=false",
        "--metrics", "basic", "--max-snapshots", "5", "--max-wals", "5", "--auth-token", "simple",
        "--backend-batch-interval", "100ms", "--backend-batch-limit", "1000", "--grpc-keepalive-min-time", "5s",
        "--grpc-keepalive-interval", "2h", "--grpc-keepalive-timeout", "20s"])
    try:
        assert "etcd flags accepted for compatibility; they have no effect here" in server.read_log()
        assert "--pre-vote,--strict-reconfig-check" in server.read_log()
        metrics_address = f"127.0.0.1:{metrics_port}"
        # As etcd's metrics listener: /metrics, /health and the probes (kubeadm's), no /version.
        assert request(metrics_address, "/health")[0] == 200
        assert request(metrics_address, "/livez")[2] == b"ok\n"
        assert request(metrics_address, "/readyz?verbose")[2] == \
            b"[+]data_corruption ok\n[+]serializable_read ok\n[+]linearizable_read ok\nok\n"
        assert request(metrics_address, "/version")[0] == 404
        assert "etcd_server_has_leader" in metrics(metrics_address)
        members = etcdctl(server.address, "member", "list")
        assert f", n1, http://127.0.0.1:{peer_port}, " in members
    finally:
        server.terminate()
    for args, message in (
            (["--name", "n1", "--initial-cluster", "n1=http://a:1,n2=http://b:2"],
             'vigil runs a single member: --initial-cluster also names "n2"'),
            (["--name", "n3", "--initial-cluster", "n1=http://a:1"],
             'couldn\'t find local name "n3" in the initial cluster configuration'),
            (["--initial-cluster-state", "old"], "--initial-cluster-state must be 'new' or 'existing'"),
            (["--auth-token", "foo"], "--auth-token: invalid auth options"),
            (["--pre-vote=maybe"], "'maybe' is invalid for '--pre-vote")):
        result = subprocess.run([VIGIL_BIN, "--data-dir", str(tmp_path / "d"), *args], capture_output=True, text=True,
                                timeout=30)
        assert result.returncode != 0 and message in result.stderr, result.stderr


def test_etcdctl_check_datascale_reads_the_memory_metric(vigil):
    """`etcdctl check datascale` puts 10,000 keys of 1 kB from 50 clients and reads process_resident_memory_bytes
    from /metrics before and after."""
    result = subprocess.run(["etcdctl", f"--endpoints=http://{vigil.address}", "check", "datascale", "--load=s"],
                            capture_output=True, text=True, env=ENV, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS: Approximate system memory used" in result.stdout, result.stdout
    families = metrics(vigil.address)
    for name in ("process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds",
                 "process_start_time_seconds"):
        assert float(families[name][1][name]) > 0, name


CORS = ("Access-Control-Allow-Headers", "Access-Control-Allow-Methods", "Access-Control-Allow-Origin")


def access_script(address):
    """Requests with various Host and Origin headers: status, the CORS headers and, for refusals, the body."""
    answers = []
    for path, method, headers, body in [
        ("/version", "GET", {"Host": "allowed.example:2379"}, None),
        ("/version", "GET", {"Host": "allowed.example", "Origin": "http://a.example:80"}, None),
        ("/version", "GET", {"Host": "allowed.example", "Origin": "http://c.example:80"}, None),
        ("/version", "GET", {"Host": "ALLOWED.example"}, None),
        ("/version", "GET", {"Host": "rebound.example:2379"}, None),
        ("/metrics", "GET", {"Host": "[::1]:2379"}, None),
        ("/v3/kv/range", "POST", {"Host": "evil.example"}, '{"key":"Zm9v"}'),
        ("/v3/kv/range", "OPTIONS", {"Host": "allowed.example", "Origin": "http://b.example:80"}, None),
        ("/v3beta/kv/range", "POST", {"Host": "127.0.0.1", "Origin": "http://a.example:80"}, '{"key":"Zm9v"}'),
        ("/v3/watch", "POST", {"Host": "evil.example"}, '{"create_request":{"key":"Zm9v"}}'),
    ]:
        status, got, text = request(address, path, method, headers, body)
        answers.append((path, method, status, {name: got.get(name) for name in CORS},
                        text if status >= 400 else None))
    return answers


def test_host_whitelist_cors_options_and_v3beta_as_etcd(tmp_path):
    flags = ["--host-whitelist", "allowed.example,127.0.0.1,::1", "--cors", "http://a.example:80,http://b.example:80"]
    import shutil
    import pytest
    if shutil.which("etcd") is None:
        pytest.skip("etcd-server is not installed (make test installs it)")
    vigil, etcd = VigilProcess(extra_args=flags), EtcdProcess(extra_args=flags)
    try:
        ours, theirs = access_script(vigil.address), access_script(etcd.address)
    finally:
        vigil.terminate()
        etcd.terminate()
    assert ours == theirs
    assert ours[4][2] == 421 and b'etcd --host-whitelist "rebound.example"' in ours[4][4]
    # Without the flags every origin gets the headers, as etcd's defaults ('*') give them.
    default = VigilProcess()
    try:
        status, got, _ = request(default.address, "/health", headers={"Host": "anything.example"})
        assert status == 200 and got["Access-Control-Allow-Origin"] == "*"
    finally:
        default.terminate()


def expect_continue(address):
    """A POST that waits for `100 Continue` before sending its body (curl does so above 1 MiB), then an
    expectation no server meets; the status lines read."""
    host, port = address.split(":")
    body = b'{"key":"Zm9v","value":"YmFy"}'
    lines = []
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /v3/kv/put HTTP/1.1\r\nHost: %s\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n"
                     % (address.encode(), len(body)))
        received = b""
        while b"\r\n\r\n" not in received:  # the interim answer, before any body was sent
            received += sock.recv(4096)
        lines.append(received.split(b"\r\n")[0])
        sock.sendall(body)
        received = received.split(b"\r\n\r\n", 1)[1]
        while b"\r\n" not in received:
            received += sock.recv(4096)
        lines.append(received.split(b"\r\n")[0])
    status, headers, _ = request(address, "/v3/kv/range", "POST", {"Expect": "something-else"}, '{"key":"Zm9v"}')
    lines.append((status, headers.get("Connection")))
    return lines


def test_expect_100_continue_as_go_answers_it(vigil, etcd):
    assert expect_continue(vigil.address) == expect_continue(etcd.address) == [
        b"HTTP/1.1 100 Continue", b"HTTP/1.1 200 OK", (417, "close")]


def without_or_with_two_hosts(address):
    """HTTP/1.1 requests with no Host header and with two: the status line and body Go's server writes."""
    host, port = address.split(":")
    answers = []
    for head in (b"GET /health HTTP/1.1\r\n\r\n", b"GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"):
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(head)
            received = b""
            while data := sock.recv(4096):  # the server closes the connection after the answer
                received += data
        status_line, rest = received.split(b"\r\n", 1)
        answers.append((status_line, rest.split(b"\r\n\r\n", 1)[1]))
    return answers


def test_a_request_without_one_host_is_refused_as_go_refuses_it(vigil, etcd):
    assert without_or_with_two_hosts(vigil.address) == without_or_with_two_hosts(etcd.address) == [
        (b"HTTP/1.1 400 Bad Request: missing required Host header", b"400 Bad Request: missing required Host header"),
        (b"HTTP/1.1 400 Bad Request", b"400 Bad Request")]


def unclean_paths(address):
    """Go's ServeMux redirects unclean paths and `/v3` (a subtree without its slash): status, Location, body."""
    host, port = address.split(":")
    answers = []
    for method, path in (("GET", "//health"), ("GET", "/./version?a=b"), ("POST", "//v3/kv/range"), ("GET", "/v3"),
                         ("GET", "/health/../version"), ("GET", "/metrics/")):
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            connection.request(method, path, body="{}" if method == "POST" else None)
            response = connection.getresponse()
            answers.append((method, path, response.status, response.getheader("Location"), response.read()))
        finally:
            connection.close()
    return answers


def test_unclean_paths_are_redirected_as_gos_servemux_does(vigil, etcd):
    ours = unclean_paths(vigil.address)
    assert ours == unclean_paths(etcd.address)
    assert ours[0][2:] == (301, "/health", b'<a href="/health">Moved Permanently</a>.\n\n')
