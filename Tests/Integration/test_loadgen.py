"""The benchmark load generator's own checks (bench/loadgen, Go): its figures are only worth what its verification
of every event is, so its unit tests run with the suite."""
import os
import subprocess


def test_loadgen_unit_tests(go_env):
    source = os.path.join(os.path.dirname(__file__), "../../bench/loadgen")
    result = subprocess.run(["go", "test", "."], cwd=source, env=go_env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"go test in bench/loadgen failed:\n{result.stdout}\n{result.stderr}"
