"""Classic models: OR-Library known optima and brute force on small instances."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from classic.models import (
    cflp,
    max_cover,
    median_value,
    pcenter,
    pdispersion,
    pmedian,
    set_cover,
    ufl,
)
from classic.orlib import read_cap, read_optima, read_pmed
from hypothesis import given, settings
from hypothesis import strategies as st

from nisd.config import SolverOptions
from nisd.errors import InputError
from nisd.optimise.solve import available

PMED = [f"pmed{i}" for i in range(1, 11)]


@pytest.mark.slow
@pytest.mark.parametrize("name", PMED)
def test_pmedian_known_optimum(shared_dir: Path, name: str) -> None:
    inst = read_pmed(shared_dir / "orlib" / "pmed" / f"{name}.txt")
    optimum = read_optima(shared_dir / "orlib" / "pmed" / "optima.csv")[name]["pmedian_optimum"]
    solver = "cbc"
    if name == "pmed6":  # CBC needs over two minutes here; HiGHS about 25 s
        if "highs" not in available():
            pytest.skip("pmed6 runs with HiGHS only (pip install 'nisd[fast]')")
        solver = "highs"
    res = pmedian(inst.cost, inst.p, SolverOptions(name=solver))
    assert res.status == "optimal"
    assert res.objective == optimum
    assert len(res.opened) == inst.p
    assert res.bound is not None and res.bound <= optimum + 1e-6


@pytest.mark.parametrize("name", ["pmed1", "pmed2", "pmed4"])
def test_pcenter_known_optimum(shared_dir: Path, name: str) -> None:
    inst = read_pmed(shared_dir / "orlib" / "pmed" / f"{name}.txt")
    optimum = read_optima(shared_dir / "orlib" / "pmed" / "optima.csv")[name]["pcenter_optimum"]
    res = pcenter(inst.cost, inst.p)
    assert res.objective == optimum and res.status == "optimal"


@pytest.mark.parametrize("name", ["cap41", "cap42", "cap43", "cap44"])
def test_cflp_known_optimum(shared_dir: Path, name: str) -> None:
    c = read_cap(shared_dir / "orlib" / "cap" / f"{name}.txt")
    optimum = read_optima(shared_dir / "orlib" / "cap" / "optima.csv")[name]["capacitated_optimum"]
    res = cflp(c.fixed_cost, c.capacity, c.demand, c.cost)
    assert res.objective == pytest.approx(optimum, abs=0.01)


def test_reader_errors(tmp_path: Path) -> None:
    f = tmp_path / "bad.txt"
    f.write_text("10 5 2\n1 2 3\n")
    with pytest.raises(InputError, match="announces 5 edges but holds 1"):
        read_pmed(f)
    f.write_text("3 1 1\n1 9 4\n")
    with pytest.raises(InputError, match=r"names a vertex outside 1\.\.3"):
        read_pmed(f)
    f.write_text("a b c")
    with pytest.raises(InputError, match="not an OR-Library number file"):
        read_pmed(f)


def test_pmed_last_duplicate_edge_wins(tmp_path: Path) -> None:
    f = tmp_path / "dup.txt"
    f.write_text("3 3 1\n1 2 5\n2 3 1\n1 2 2\n")
    inst = read_pmed(f)
    assert inst.cost[0, 1] == 2 and inst.cost[0, 2] == 3


@st.composite
def matrices(draw: st.DrawFn) -> np.ndarray:
    n = draw(st.integers(3, 7))
    m = draw(st.integers(2, 6))
    vals = draw(st.lists(st.integers(0, 30), min_size=n * m, max_size=n * m))
    return np.array(vals, float).reshape(n, m)


@settings(max_examples=25, deadline=None)
@given(matrices(), st.data())
def test_pmedian_and_pcenter_brute_force(c: np.ndarray, data: st.DataObject) -> None:
    p = data.draw(st.integers(1, c.shape[1]))
    subsets = list(itertools.combinations(range(c.shape[1]), p))
    best_med = min(median_value(c, s) for s in subsets)
    best_ctr = min(float(c[:, list(s)].min(axis=1).max()) for s in subsets)
    assert pmedian(c, p).objective == best_med
    assert pmedian(c, p, reduced=False).objective == best_med  # every radius from the start
    assert pcenter(c, p).objective == best_ctr


@settings(max_examples=20, deadline=None)
@given(matrices(), st.data())
def test_cover_models_brute_force(c: np.ndarray, data: st.DataObject) -> None:
    r = float(data.draw(st.integers(0, 30)))
    p = data.draw(st.integers(1, c.shape[1]))
    cov = c <= r
    subsets = [
        s for k in range(1, c.shape[1] + 1) for s in itertools.combinations(range(c.shape[1]), k)
    ]
    feasible = [len(s) for s in subsets if cov[:, list(s)].any(axis=1).all()]
    if feasible:
        assert set_cover(c, r).objective == min(feasible)
    best = max(
        float(cov[:, list(s)].any(axis=1).sum())
        for s in itertools.combinations(range(c.shape[1]), p)
    )
    assert max_cover(c, r, p).objective == best


@settings(max_examples=15, deadline=None)
@given(st.integers(3, 7), st.integers(2, 3), st.integers(0, 10_000))
def test_pdispersion_brute_force(m: int, p: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pts = rng.integers(0, 50, size=(m, 2)).astype(float)
    d = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(axis=2))
    p = min(p, m)
    best = max(
        min(d[a, b] for a, b in itertools.combinations(s, 2))
        for s in itertools.combinations(range(m), p)
    )
    assert pdispersion(d, p).objective == pytest.approx(best)


@settings(max_examples=25, deadline=None)
@given(matrices(), st.data())
def test_ufl_brute_force(c: np.ndarray, data: st.DataObject) -> None:
    m = c.shape[1]
    fixed = np.array(data.draw(st.lists(st.integers(0, 40), min_size=m, max_size=m)), float)
    best = min(
        float(fixed[list(s)].sum()) + median_value(c, s)
        for size in range(1, m + 1)
        for s in itertools.combinations(range(m), size)
    )
    res = ufl(fixed, c)
    assert res.objective == best and res.status == "optimal"
    assert ufl(fixed, c, reduced=False).objective == best
    assert res.bound is not None and res.bound <= best + 1e-6


def test_uncapacitated_cap_file(tmp_path: Path) -> None:
    """The large OR-Library instances write the word 'capacity' for each site's capacity."""
    f = tmp_path / "capx.txt"
    f.write_text(
        "3 4\n capacity 10.0\n capacity 12.5\n capacity 30\n"
        " 5\n 0 40 80\n 5\n 40 0 80\n 5\n 80 40 0\n 5\n 1 80 80\n",
        encoding="ascii",
    )
    inst = read_cap(f)
    assert inst.uncapacitated and inst.capacity.shape == (3,)
    res = ufl(inst.fixed_cost, inst.cost)
    best = min(
        float(inst.fixed_cost[list(s)].sum()) + median_value(inst.cost, s)
        for size in (1, 2, 3)
        for s in itertools.combinations(range(3), size)
    )
    assert res.objective == best
    f.write_text("1 1\n capacity capacity\n 5\n 3\n", encoding="ascii")
    with pytest.raises(InputError, match="where a cost or demand belongs"):
        read_cap(f)
    f.write_text("1 1\n lots 4\n 5\n 3\n", encoding="ascii")
    with pytest.raises(InputError, match="neither a number nor 'capacity'"):
        read_cap(f)
