"""``nisd workers``: keep warm Dask workers running for later studies."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import click

from nisd import api


@click.command()
@click.option(
    "--workers",
    "n",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: CPUs).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Where the scheduler listens.")
@click.option(
    "--port",
    type=click.IntRange(min=0, max=65535),
    default=8786,
    show_default=True,
    help="The scheduler's port (0: any free port).",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="A data directory every worker reads at start (with --scenario alone: the "
    "embedded Swedish data).",
)
@click.option(
    "--scenario",
    type=click.Path(path_type=Path),
    default=None,
    help="A scenario whose problem every worker derives at start.",
)
def workers(
    n: int | None, host: str, port: int, data_dir: Path | None, scenario: Path | None
) -> None:
    """Start Dask workers once and keep them warm until interrupted.

    Each worker imports nisd and the solver when it starts, and keeps the
    datasets it has read and the problems it has derived between studies. Give
    the printed address to nisd sweep, explain or sensitivity with --dask: they
    then start nothing, and a study that follows another on the same data does
    not derive its problem again; --data and --scenario have them read the data
    and derive a scenario's problem at start, so that the first study is warm
    too. Stop with Ctrl-C or SIGTERM.

    The workers speak TLS and accept only clients holding the key made for them at
    start, written to a folder only you can read (removed when they stop): another
    user of this machine cannot submit work. The default listens on this machine only
    (127.0.0.1); another --host is for a network you trust, and says so on start.
    """
    import ipaddress

    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        click.echo(
            f"warning: listening on {host}: the workers accept only clients holding their "
            "key, but the port is open to that network; use it on a trusted network",
            err=True,
        )

    cluster = api.serve_workers(n, host=host, port=port, data=data_dir, scenario=scenario)
    stop = threading.Event()

    def on_signal(_sig: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        click.echo(cluster.scheduler_address)
        click.echo(
            f"{len(cluster.workers)} warm worker(s); use --dask {cluster.scheduler_address}; "
            f"their key is in {api.credentials_dir(cluster.scheduler_address)}, readable "
            "by you alone; Ctrl-C stops them",
            err=True,
        )
        while not stop.wait(0.5):
            pass
    finally:
        api.stop_workers(cluster)
        for s, handler in previous.items():
            signal.signal(s, handler)
        click.echo("workers stopped", err=True)
