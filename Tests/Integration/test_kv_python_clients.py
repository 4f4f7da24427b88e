"""The stock Python clients' KV APIs against Vigil: python-etcd3 (sync) and aetcd (asyncio).

Each client runs in its own interpreter (see clients/): both register their own copies of etcd's protos, which
clash with each other and with the suite's generated stubs in one process."""
from conftest import run_client


def test_etcd3_kv(vigil):
    assert "etcd3 kv ok" in run_client("etcd3_kv.py", vigil.port)


def test_aetcd_kv(vigil):
    assert "aetcd kv ok" in run_client("aetcd_kv.py", vigil.port)
