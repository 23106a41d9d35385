"""Who may run code on nisd's Dask workers: the user who started them, and nobody else.

Dask has no login: whoever reaches a scheduler's port can run code on its workers as the
user who started them, and on a shared machine every local user reaches 127.0.0.1. So
every cluster nisd starts speaks TLS with mutual authentication: a key and a self-signed
certificate made at start (Dask's ``Security.temporary``), required of every scheduler,
worker and client. A cluster started for one study keeps them in memory. ``nisd
workers``, whose clients are other processes, writes them into a folder only its user can
read (``credentials_dir``), where ``--dask tls://…`` finds them, and removes it when the
workers stop. Another user can neither read the key nor connect without it.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from pathlib import Path
from typing import Any

from nisd.errors import InputError, Problem

FILES = ("ca.pem", "cert.pem", "key.pem")


def temporary() -> Any:
    """A new key and certificate for every role of one cluster (TLS required)."""
    from distributed.security import Security

    return Security.temporary()


def base_dir() -> Path:
    """Where credentials of running workers live: ``$NISD_WORKERS_DIR``, else the user's
    runtime folder (``$XDG_RUNTIME_DIR``), else ``~/.cache``, each under ``nisd/workers``."""
    given = os.environ.get("NISD_WORKERS_DIR")
    if given:
        return Path(given)
    root = os.environ.get("XDG_RUNTIME_DIR") or str(Path.home() / ".cache")
    return Path(root) / "nisd" / "workers"


def credentials_dir(address: str) -> Path:
    """The folder of the credentials of the workers at ``address`` (``tls://HOST:PORT``)."""
    return base_dir() / re.sub(r"[^A-Za-z0-9.-]+", "-", address).strip("-")


def _private(path: Path) -> str | None:
    """Why ``path`` is not a folder of this user's that nobody else can enter (None: it is)."""
    st = path.stat()
    if st.st_uid != os.getuid():
        return f"{path} belongs to another user"
    if stat.S_IMODE(st.st_mode) & 0o077:
        return f"{path} is open to other users (mode {stat.S_IMODE(st.st_mode):o}; want 700)"
    return None


def save(security: Any, address: str) -> Path:
    """Write the credentials of the workers at ``address`` into a folder only this user can
    enter (mode 700, files 600); returns the folder.

    Raises
    ------
    InputError
        The folder exists and is not this user's alone.
    """
    where = credentials_dir(address)
    where.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if where.exists():
        shutil.rmtree(where)  # a folder left by workers that were killed
    where.mkdir(mode=0o700)
    os.chmod(where, 0o700)  # mkdir's mode is cut by the umask; this one must not be
    why = _private(where)
    if why:
        raise InputError([Problem("workers", why)])
    contents = {
        "ca.pem": security.tls_ca_file,
        "cert.pem": security.tls_client_cert,
        "key.pem": security.tls_client_key,
    }
    for name, text in contents.items():
        fd = os.open(where / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text)
    return where


def load(address: str) -> Any:
    """The client credentials of the workers at ``address``, as ``nisd workers`` wrote them.

    Raises
    ------
    InputError
        None written (workers not started by this user, or already stopped), or the folder
        is open to other users.
    """
    from distributed.security import Security

    where = credentials_dir(address)
    if not all((where / f).is_file() for f in FILES):
        raise InputError(
            [
                Problem(
                    "dask",
                    f"no credentials for {address} in {where}: start the workers with "
                    "'nisd workers' as this user (it prints the address to give), or set "
                    "NISD_WORKERS_DIR to the folder they use",
                )
            ]
        )
    why = _private(where)
    if why:
        raise InputError([Problem("dask", why)])
    return Security(
        require_encryption=True,
        tls_ca_file=str(where / "ca.pem"),
        tls_client_cert=str(where / "cert.pem"),
        tls_client_key=str(where / "key.pem"),
    )


def remove(address: str) -> None:
    """Delete the credentials of stopped workers."""
    shutil.rmtree(credentials_dir(address), ignore_errors=True)


__all__ = ["base_dir", "credentials_dir", "load", "remove", "save", "temporary"]
