"""The ``nisd`` command line: one group, one module per command.

Only this package knows click and configures logging. Library errors become
one line per problem on stderr and the exit code of their class:

====  ==========================================================
code  meaning
====  ==========================================================
0     success
1     unexpected internal error (``-v`` shows the traceback)
2     bad command-line usage (click)
3     rejected input data, scenario or option
4     infeasible: the solver proved that no plan exists
5     no plan: the solver stopped without a solution or proof
6     solver failure or solver not available
7     a plan failed the independent check
130   interrupted
====  ==========================================================
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from typing import Any

import click

from nisd import __version__
from nisd.errors import InputError, NisdError

log = logging.getLogger("nisd")


class NisdGroup(click.Group):
    """A click group that turns nisd's errors into messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except InputError as exc:
            for p in exc.problems:
                if p.severity == "warning":
                    click.echo(f"warning: {p}", err=True)
            for p in exc.problems:
                if p.severity == "error":
                    click.echo(f"error: {p}", err=True)
            ctx.exit(exc.exit_code)
        except NisdError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except BrokenPipeError:  # the reader went away (`nisd … | head`): stop quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(141)
        except Exception as exc:
            verbose = (ctx.obj or {}).get("verbosity", 0) > 0
            if verbose:
                traceback.print_exc()
            click.echo(
                f"internal error: {type(exc).__name__}: {exc}"
                + ("" if verbose else " (run with -v for the traceback)"),
                err=True,
            )
            ctx.exit(1)


@click.group(cls=NisdGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="nisd")
@click.option("-v", "--verbose", count=True, help="More output (repeat for debug).")
@click.option("-q", "--quiet", count=True, help="Less output: errors only.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: int) -> None:
    """nisd plans a national system of secure government datacenters.

    It chooses which candidate sites to build, of which type, serving which
    demand, so that the system stays up when sites, fibre routes, regions or
    a whole power zone are lost. DIR defaults to the embedded Swedish dataset.
    """
    verbosity = verbose - quiet
    ctx.obj = {"verbosity": verbosity}
    level = logging.WARNING - 10 * verbosity
    logging.basicConfig(
        level=max(logging.DEBUG, min(logging.ERROR, level)),
        format="%(levelname)s: %(message)s",
        stream=sys.stderr,
    )
    # nisd's own progress (solver rounds) shows by default on stderr; -q hides it
    log.setLevel(
        max(logging.DEBUG, min(logging.ERROR, logging.INFO - 10 * verbosity))
        if verbosity >= 0
        else logging.ERROR
    )
    if verbosity < 2:  # Dask's scheduler and workers chat at INFO level; -vv shows it
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")


def _register() -> None:
    from nisd.cli import validate as _validate

    cli.add_command(_validate.validate)
    for name in (
        "topology",
        "resilience",
        "plan",
        "map",
        "report",
        "compare",
        "sweep",
        "alternatives",
        "explain",
        "sensitivity",
        "ladder",
        "attack",
        "rollout",
        "fees",
        "workers",
    ):
        try:
            mod = __import__(f"nisd.cli.{name}", fromlist=[name])
        except ModuleNotFoundError:
            continue
        cli.add_command(getattr(mod, name))


_register()


def main() -> None:
    """Entry point of the ``nisd`` console script."""
    cli(prog_name="nisd")
