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

import nisd
from nisd.cli import cli
from nisd.errors import ConfigError, InputError, SolverError
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


def test_bad_dask_addresses() -> None:
    pytest.importorskip("distributed")
    with pytest.raises(InputError, match="give 'local' or a tcp://HOST:PORT"):
        Workers(dask="udp://x")
    with pytest.raises(InputError, match=r"cannot reach tcp://127\.0\.0\.1:1"):
        Workers(dask="tcp://127.0.0.1:1", timeout=1)


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
    assert "warning: listening on 0.0.0.0: anyone who can reach port" in res.output
    assert f"cannot listen on 0.0.0.0:{port}" in res.output


@pytest.mark.slow
def test_workers_command_serves_sweeps_until_stopped(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    proc = subprocess.Popen(
        [sys.executable, "-m", "nisd", "workers", "--workers", "1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        address = proc.stdout.readline().strip()
        assert address.startswith("tcp://127.0.0.1:"), proc.stderr.read() if proc.stderr else ""
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
        proc.send_signal(signal.SIGTERM)
        try:
            _out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, err
    assert "workers stopped" in err


def _scenario(tmp_path: Path) -> Path:
    scen = tmp_path / "ee.toml"
    scen.write_text('k = 2\nseparation_km = 100\nhazards = "off"\n')
    return scen


@pytest.mark.slow
def test_sweep_from_python_matches_single_plans_and_resumes(tmp_path: Path) -> None:
    ds = nisd.load(ESTONIA)
    scen = _scenario(tmp_path)
    with Workers(2) as w:
        df = nisd.sweep(ds, scen, {"p": [2, 3]}, tmp_path / "s", workers=w, maps=True)
        assert df["status"].tolist() == ["optimal", "optimal"]
        assert len(list((tmp_path / "s" / "points").glob("*/plan.html"))) == 2
        for p, cost in zip(df["param.p"], df["objective"], strict=True):
            assert cost == pytest.approx(nisd.plan(ds, scen, p=int(p)).value)
        done = sorted((tmp_path / "s" / "points").glob("*/plan.json"))
        stamps = {f: f.stat().st_mtime_ns for f in done}
        again = nisd.sweep(ds, scen, {"p": [2, 3]}, tmp_path / "s", workers=w)
    assert again["objective"].tolist() == df["objective"].tolist()
    cli_args = ["sweep", str(scen), "--data", str(ESTONIA), "--vary", "p=2..3", "--no-maps"]
    res = CliRunner().invoke(cli, [*cli_args, "--out", str(tmp_path / "s"), "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert {f: f.stat().st_mtime_ns for f in done} == stamps  # nothing solved again


def test_sweep_from_python_names_every_bad_point(tmp_path: Path) -> None:
    ds = nisd.load(ESTONIA)
    with pytest.raises(ConfigError) as err:
        nisd.sweep(ds, _scenario(tmp_path), {"separation_km": [50, 60, 100]}, tmp_path / "s")
    text = str(err.value)
    assert "point {'separation_km': 50}" in text and "point {'separation_km': 60}" in text
    assert "100}" not in text
    assert not (tmp_path / "s").exists()
    variant = nisd.scale_demand(ds, 1.1)
    with pytest.raises(InputError, match="variant made in memory"):
        nisd.sweep(variant, _scenario(tmp_path), {"p": [2]}, tmp_path / "s")


@pytest.mark.slow
def test_explain_from_python_is_each_re_solve(tmp_path: Path) -> None:
    ds = nisd.load(ESTONIA)
    scen = _scenario(tmp_path)
    plan = nisd.plan(ds, scen)
    assert plan.value is not None
    with Workers(2) as w:
        records = nisd.explain(ds, plan, rejected=1, workers=w).probes
    opened = [r for r in records if r.role == "opened"]
    assert sorted(r.site_id for r in opened) == sorted(plan.sites)
    assert len(records) == len(plan.sites) + 1
    for r in records:  # each figure is the re-solve done apart
        key = "forbidden" if r.role == "opened" else "required"
        alone = nisd.plan(ds, scen, **{key: [r.site_id]})
        assert alone.value is not None and r.change is not None
        assert r.change == pytest.approx(alone.value - plan.value, abs=1e-6)
        assert r.change >= -1e-6  # the plan was optimal
    serial = {r.site_id: r.change for r in nisd.explain(ds, plan, rejected=1).probes}
    assert serial == {r.site_id: r.change for r in records}


@pytest.mark.slow
def test_workers_primed_with_data_and_scenario_hold_them_from_the_start(tmp_path: Path) -> None:
    scen = _scenario(tmp_path)
    here = str(ESTONIA.resolve())
    with Workers(2, data=ESTONIA, scenario=scen) as w:
        held = [h for _k, h in w.run([(str(i), runner._held, ()) for i in range(4)])]
        assert all(h == ([here], [here]) for h in held)
        serial = _objectives(run_tasks(_tasks(2), workers=1))
        assert _objectives(w.run(_tasks(2))) == serial


@pytest.mark.slow
def test_dask_workers_primed_at_start(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    here = str(ESTONIA.resolve())
    with Workers(1, dask="local", data=ESTONIA, scenario=_scenario(tmp_path)) as w:
        assert list(w._client.run(runner._held).values()) == [([here], [here])]


def test_priming_refuses_bad_data_or_scenario_before_starting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="separation_km"):
        bad = tmp_path / "bad.toml"
        bad.write_text("separation_km = -5\n")
        Workers(2, data=ESTONIA, scenario=bad)
    with pytest.raises(InputError):
        Workers(2, data=tmp_path / "nowhere")
    res = CliRunner().invoke(cli, ["workers", "--scenario", str(tmp_path / "none.toml")])
    assert res.exit_code == 3 and "none.toml" in res.output and "Traceback" not in res.output


def test_a_worker_without_the_data_directory_says_so(tmp_path: Path) -> None:
    res = solve_point(str(tmp_path / "elsewhere"), CONFIG)
    assert not res.ok and res.error_type == "InputError" and res.exit_code == 3
    assert "no such directory on the worker at" in res.error
    assert "shared file system" in res.error


@pytest.mark.slow
def test_a_pool_that_loses_a_process_says_so_and_starts_again() -> None:
    with Workers(1) as w:
        with pytest.raises(SolverError, match=r"a worker process stopped while running 'die'"):
            list(w.run([("die", os._exit, (3,))]))
        assert _objectives(w.run(_tasks(1))) == _objectives(run_tasks(_tasks(1), workers=1))


@pytest.mark.slow
def test_a_dask_task_that_kills_its_workers_is_a_solver_error() -> None:
    pytest.importorskip("distributed")
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        w = Workers(1, dask="local")
    with w, pytest.raises(SolverError, match=r"stopped while running 'die'"):
        list(w.run([("die", os._exit, (3,))]))


def test_kept_datasets_are_the_ones_used_last(tmp_path: Path) -> None:
    import shutil

    dirs = []
    for i in range(5):
        d = tmp_path / f"ee{i}"
        shutil.copytree(ESTONIA, d)
        dirs.append(str(d))
    first = runner._dataset(dirs[0])
    for d in dirs[1:4]:
        runner._dataset(d)
        assert runner._dataset(dirs[0]) is first  # used again: kept
    runner._dataset(dirs[4])  # a fifth pushes out the one used longest ago (ee1)
    assert runner._dataset(dirs[0]) is first
    assert dirs[1] not in runner._DATASETS


def test_priming_refuses_an_unknown_scenario_set_before_starting(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[crisis]\nsets = ["meteor"]\n')
    with pytest.raises(InputError, match=r"unknown scenario set\(s\) meteor"):
        Workers(2, data=ESTONIA, scenario=bad)


@pytest.mark.slow
def test_pool_workers_that_cannot_start_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the data vanishes between the check here and the workers' start
    monkeypatch.setattr(workers, "_priming", lambda _d, _s: (str(tmp_path / "gone"), None))
    with pytest.raises(InputError, match="stopped while starting"):
        Workers(1, data=tmp_path)
