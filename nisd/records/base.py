"""What every record shares: the status of a solve, the frozen model base, the schema
version, and reading a record's JSON file with every problem named.

A record is a frozen pydantic model whose JSON form *is* its file format: what the
optimiser returns is what ``plan.json`` holds, what the Python door hands out and what
every page and command reads, by attribute. Reading a file validates it as a whole
(unknown keys, wrong types and non-finite numbers are refused with the key named), so
a file edited by hand or by someone hostile never reaches a page as anything but data.
"""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from nisd.errors import InputError, Problem
from nisd.settings import check_texts, validation_problems

SCHEMA = 3  # the version of every record file written now; files without one are version 1


class Status(enum.StrEnum):
    """How far a solver's answer is proved.

    ``optimal``     proved, to the model's precision (gap within the tolerance)
    ``feasible``    a solution, not proved optimal; ``bound`` and ``gap`` say how far
    ``infeasible``  proved infeasible, with no limit hit
    ``unknown``     neither a solution nor a proof
    """

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNKNOWN = "unknown"


class Record(BaseModel):
    """Base of every record: frozen, unknown keys refused, every number finite."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True
    )

    @field_validator("*", mode="after")
    @classmethod
    def _texts(cls, v: Any) -> Any:
        # names and labels of a file edited by hand stay text on a page (no bidi controls)
        return check_texts(v)

    def to_json(self) -> dict[str, Any]:
        """The record's JSON form (a fresh dict)."""
        return self.model_dump(mode="json", by_alias=True)


class FileRecord(Record):
    """A record with a file of its own: ``kind`` and ``schema`` lead its JSON form."""

    KIND: ClassVar[str] = ""
    FILE: ClassVar[str] = ""

    @classmethod
    def from_json(cls, doc: Any, name: str = "") -> Self:
        """The record of a JSON document (``name`` says where it came from).

        Raises
        ------
        InputError
            The document is not this kind of record, or a key is missing, unknown,
            of the wrong type or not finite (every problem listed).
        """
        name = name or cls.FILE
        if not isinstance(doc, dict):
            raise InputError(
                [Problem(name, f"is not a nisd {cls.KIND} (a JSON object is expected)")]
            )
        doc = dict(doc)
        kind = doc.pop("kind", cls.KIND)
        schema = doc.pop("schema", 1)
        if kind != cls.KIND:
            raise InputError([Problem(name, f"is a {kind!s}, not a {cls.KIND}", column="kind")])
        if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
            raise InputError(
                [Problem(name, f"schema {schema!r} is not a version", column="schema")]
            )
        if schema > SCHEMA:
            raise InputError(
                [
                    Problem(
                        name,
                        f"was written by a newer nisd (schema {schema}; this one reads up to "
                        f"{SCHEMA})",
                        column="schema",
                    )
                ]
            )
        try:
            return cls.model_validate(cls.upgrade(doc, schema))
        except ValidationError as exc:
            raise InputError(validation_problems(name, exc)) from None

    @classmethod
    def upgrade(cls, doc: dict[str, Any], schema: int) -> dict[str, Any]:
        """A document of an earlier schema in today's form (version 1 files are read as
        they are unless a record says otherwise)."""
        return doc

    @classmethod
    def read(cls, path: str | Path) -> Self:
        """Read and validate the record file ``path``.

        Raises
        ------
        InputError
            The file is missing, not JSON, or not a valid record.
        """
        return cls.from_json(read_json(Path(path)), str(path))

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.KIND, "schema": SCHEMA, **super().to_json()}


def read_json(path: Path) -> Any:
    """A JSON file's contents; a missing, unreadable or invalid file is an InputError."""
    name = str(path)
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError([Problem(name, "not found")]) from None
    except IsADirectoryError:
        raise InputError([Problem(name, "is a directory, not a JSON file")]) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError([Problem(name, f"is not valid JSON: {exc}")]) from None
    except OSError as exc:
        raise InputError([Problem(name, f"cannot be read: {exc.strerror or exc}")]) from None


def dumps(doc: Any) -> str:
    """JSON text as nisd writes it: sorted keys, indented, UTF-8, never NaN."""
    return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
