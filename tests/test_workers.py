"""Workers kept between studies: a process pool or a Dask cluster started once, warm
(nisd imported at start), their datasets read again when the data changes; the
``nisd workers`` command; every error of the executors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from nisd.cli import cli
from nisd.errors import InputError
from nisd.study import runner, workers
from nisd.study.runner import solve_point
from nisd.study.workers import Workers, run_tasks
from tests.conftest import ESTONIA
from tests.helpers import read_rows, write_rows

CONFIG = {"k": 2, "separation_km": 100, "hazards": "off", "solver": {"threads": 1}}


def _tasks(n: int) -> list[runner.Task]:
    return [(f"p{p}", solve_point, (str(ESTONIA), {**CONFIG, "p": p})) for p in range(2, 2 + n)]


def _objectives(results: Iterator[tuple[str, Any]]) -> dict[str, float]:
    out = {}
    for key, res in results:
        assert res.plan is not None, res
        out[key] = res.plan.value
    return out


@pytest.fixture(scope="module")
def dask_workers() -> Iterator[Workers]:
    pytest.importorskip("distributed")
    with Workers(1, dask="local") as w:
        yield w


@pytest.mark.slow
def test_pool_workers_outlive_a_study_and_agree_with_serial() -> None:
    serial = _objectives(run_tasks(_tasks(3), workers=1))
    with Workers(2) as w:
        pids = {pid for _k, pid in w.run([(str(i), runner._ready, ()) for i in range(4)])}
        assert _objectives(run_tasks(_tasks(3), workers=w)) == serial
        assert _objectives(w.run(_tasks(3))) == serial  # the same workers, again
        pids |= {pid for _k, pid in w.run([(str(i), runner._ready, ()) for i in range(4)])}
        assert len(pids) <= 2 and os.getpid() not in pids  # never a new process
    with pytest.raises(RuntimeError, match="closed"):
        list(w.run(_tasks(1)))


@pytest.mark.slow
def test_dask_workers_are_warm_and_kept(dask_workers: Workers) -> None:
    client = dask_workers._client
    assert all(client.run(lambda: "nisd.optimise" in sys.modules).values())
    # no statistical profiler sampling the tasks (for a dashboard nobody serves)
    callbacks = client.run(lambda dask_worker: sorted(dask_worker.periodic_callbacks))
    assert callbacks and not any("profile" in c for cs in callbacks.values() for c in cs)
    first = {pid for _k, pid in dask_workers.run([("a", runner._ready, ())])}
    serial = _objectives(run_tasks(_tasks(2), workers=1))
    assert _objectives(dask_workers.run(_tasks(2))) == serial
    assert _objectives(dask_workers.run(_tasks(2))) == serial  # same keys, a second study
    assert {pid for _k, pid in dask_workers.run([("a", runner._ready, ())])} == first


def test_a_task_the_worker_cannot_run_is_an_input_error(dask_workers: Workers) -> None:
    with pytest.raises(InputError, match=r"could not run 'bad'.*ValueError"):
        list(dask_workers.run([("bad", int, ("not a number",))]))


def test_a_kept_dataset_is_read_again_when_a_file_changes(tmp_path: Path) -> None:
    import shutil

    data = tmp_path / "ee"
    shutil.copytree(ESTONIA, data)
    first = runner._dataset(str(data))
    assert runner._dataset(str(data)) is first
    sites = data / "sites.csv"
    rows = read_rows(sites)
    rows[0]["name"] = rows[0]["name"] + " (renamed)"
    write_rows(sites, rows)
    changed = runner._dataset(str(data))
    assert changed is not first
    assert changed.input_hash != first.input_hash
    assert changed.sites[0].name.endswith("(renamed)")


def test_bad_dask_addresses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setenv("NISD_WORKERS_DIR", str(tmp_path))
    with pytest.raises(InputError, match="give 'local', the tls://HOST:PORT of nisd workers"):
        Workers(dask="udp://x")
    with pytest.raises(InputError, match=r"cannot reach tcp://127\.0\.0\.1:1"):
        Workers(dask="tcp://127.0.0.1:1", timeout=1)
    with pytest.raises(InputError, match=r"no credentials for tls://127\.0\.0\.1:1 in"):
        Workers(dask="tls://127.0.0.1:1", timeout=1)
    # credentials another user could read are refused
    where = tmp_path / "tls-127.0.0.1-1"
    where.mkdir()
    for f in ("ca.pem", "cert.pem", "key.pem"):
        (where / f).write_text("x")
    where.chmod(0o755)
    with pytest.raises(InputError, match="is open to other users"):
        Workers(dask="tls://127.0.0.1:1", timeout=1)


def _taken_port() -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s


def test_workers_command_rejects_a_taken_port() -> None:
    pytest.importorskip("distributed")
    with _taken_port() as s:
        port = s.getsockname()[1]
        res = CliRunner().invoke(cli, ["workers", "--port", str(port)])
    assert res.exit_code == 3
    assert f"port: cannot listen on 127.0.0.1:{port}" in res.output
    assert "Traceback" not in res.output


def test_workers_command_warns_when_it_listens_beyond_this_machine() -> None:
    pytest.importorskip("distributed")
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        s.listen()
        port = s.getsockname()[1]
        res = CliRunner().invoke(cli, ["workers", "--host", "0.0.0.0", "--port", str(port)])
    assert res.exit_code == 3
    assert "warning: listening on 0.0.0.0: the workers accept only clients holding" in res.output
    assert f"cannot listen on 0.0.0.0:{port}" in res.output


def _keys_dir(tmp_path: Path) -> Path:
    """A folder any user may pass through (as a home or runtime folder often is): only
    the credentials' own folder keeps others out."""
    base = tmp_path / "open"
    base.mkdir()
    for p in (tmp_path, base):
        p.chmod(0o755)
    return base


def _start_workers(keys: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "nisd", "workers", "--workers", "1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NISD_WORKERS_DIR": str(keys)},
    )
    assert proc.stdout is not None
    address = proc.stdout.readline().strip()
    assert address.startswith("tls://127.0.0.1:"), proc.stderr.read() if proc.stderr else ""
    return proc, address


def _stop_workers(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        _out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 0, err
    return err


@pytest.mark.slow
def test_workers_command_serves_sweeps_until_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("distributed")
    keys = _keys_dir(tmp_path)
    monkeypatch.setenv("NISD_WORKERS_DIR", str(keys))
    proc, address = _start_workers(keys)
    where = workers.security.credentials_dir(address)
    try:
        assert oct(where.stat().st_mode & 0o777) == "0o700"
        assert {f.name: oct(f.stat().st_mode & 0o777) for f in where.iterdir()} == dict.fromkeys(
            ("ca.pem", "cert.pem", "key.pem"), "0o600"
        )
        scen = tmp_path / "ee.toml"
        scen.write_text('k = 2\nseparation_km = 100\nhazards = "off"\n')
        tables = []
        for out in ("a", "b"):
            res = CliRunner().invoke(
                cli,
                [
                    "sweep", str(scen), "--data", str(ESTONIA), "--vary", "p=2..3",
                    "--out", str(tmp_path / out), "--dask", address, "--no-maps",
                ],
            )  # fmt: skip
            assert res.exit_code == 0, res.output
            tables.append(pd.read_csv(tmp_path / out / "table.csv"))
        assert tables[0]["objective"].tolist() == tables[1]["objective"].tolist()
        assert (tables[0]["status"] == "optimal").all()
    finally:
        err = _stop_workers(proc)
    assert "workers stopped" in err
    assert not where.exists()  # the key goes with the workers


# what an intruder tries with Dask: TLS with a key of its own, or plain TCP
INTRUDER = """
import sys
from distributed import Client
from distributed.security import Security
address = sys.argv[1]
ran = []
for how, where, sec in (("tls", address, Security.temporary()),
                        ("tcp", address.replace("tls://", "tcp://"), None)):
    try:
        with Client(where, timeout="3s", security=sec) as c:
            ran.append(c.submit(lambda: "ran code", pure=False).result(timeout=5))
    except Exception as exc:
        print(how, "refused:", type(exc).__name__, str(exc)[:80])
print("RAN" if ran else "NOTHING RAN", ran)
"""

# what another local user can try with Python alone: a TLS session without a certificate,
# and reading the key
NOBODY = """
import socket, ssl, sys
from pathlib import Path
host, port, where = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
try:
    with socket.create_connection((host, port), 5) as raw, ctx.wrap_socket(raw) as tls:
        tls.sendall(b"hello")
        print("tls accepted" if tls.recv(1) else "tls refused: closed")
except (ssl.SSLError, OSError) as exc:
    print("tls refused:", type(exc).__name__)
try:
    (where / "key.pem").read_text()
    print("read the key")
except OSError as exc:
    print("key refused:", type(exc).__name__)
"""


@pytest.mark.slow
def test_another_user_cannot_run_code_on_the_workers(tmp_path: Path) -> None:
    """Started by this user, the workers refuse whoever lacks their key: a Dask client
    with a key of its own gets no TLS session, and plain TCP none; run as root, a second
    user (``nobody``) also gets no TLS session and cannot read the key."""
    pytest.importorskip("distributed")
    keys = _keys_dir(tmp_path)
    proc, address = _start_workers(keys)
    where = workers.security.credentials_dir(address)
    host, port = address.removeprefix("tls://").rsplit(":", 1)
    try:
        env = {**os.environ, "NISD_WORKERS_DIR": str(tmp_path / "elsewhere")}
        res = subprocess.run(
            [sys.executable, "-c", INTRUDER, address],
            capture_output=True, text=True, timeout=120, env=env,
        )  # fmt: skip
        other: subprocess.CompletedProcess[str] | None = None
        if os.geteuid() == 0 and Path("/usr/bin/python3").exists():
            other = subprocess.run(
                ["/usr/bin/python3", "-c", NOBODY, host, port, str(where)],
                capture_output=True, text=True, timeout=60, user=65534, cwd="/",
                env={"PATH": "/usr/bin:/bin"},
            )  # fmt: skip
    finally:
        _stop_workers(proc)
    assert "NOTHING RAN" in res.stdout, res.stdout + res.stderr
    assert "tls refused" in res.stdout and "tcp refused" in res.stdout, res.stdout
    if other is not None:
        assert "tls refused" in other.stdout, other.stdout + other.stderr
        assert "key refused: PermissionError" in other.stdout, other.stdout + other.stderr
