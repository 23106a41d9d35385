"""Every parameter of a plan or a roll-out, validated (unknown keys and non-finite numbers
rejected): the models a scenario file is read into.

The models sit on the lowest floor (they import only :mod:`nisd.settings` and
:mod:`nisd.errors`): the records of results carry the configuration they were made
with. Reading scenario files (``extends``, the library) is :mod:`nisd.io.scenario`.

Why this module is long: it is the whole scenario file's schema, one model per table
(placement, crisis, war, roll-out and its futures, fees, solver), each with the checks that
name a bad key; split up, the tables that refer to each other (the roll-out's futures
check the roll-out's years) would import one another.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from nisd.settings import Strict, non_negative

ObjectiveName = Literal["cost", "median", "center", "dispersion"]


class SolverOptions(Strict):
    """``name``: ``auto`` (HiGHS when highspy is installed, else CBC), ``cbc``, ``highs``,
    or any PuLP solver name. ``presolve`` (HiGHS): ``auto`` (full for small models, light
    for large ones, see :data:`nisd.optimise.solve.LIGHT_PRESOLVE_NONZEROS`), ``full``,
    ``light`` or ``off``. ``method``: ``full`` (one model of sites and assignments),
    ``sites-first`` (a master over the sites and checks of its plans, see
    :mod:`nisd.optimise.decompose`; cost objective only) or ``auto`` (sites first for
    large cost problems)."""

    name: str = "auto"
    time_limit: float | None = Field(None, gt=0)
    gap: float | None = Field(None, ge=0, lt=1)
    threads: int | None = Field(None, ge=1)
    seed: int = 0
    presolve: Literal["auto", "full", "light", "off"] = "auto"
    method: Literal["auto", "full", "sites-first"] = "auto"


class ObjectiveConfig(Strict):
    """``name`` alone; ``weights`` for a weighted sum; ``order`` for lexicographic."""

    name: ObjectiveName | Literal["weighted", "lexicographic"] = "cost"
    weights: dict[ObjectiveName, float] = Field(default_factory=dict)
    order: list[ObjectiveName] = Field(default_factory=list)
    tolerance: float = Field(0.01, ge=0, le=1)
    network_cost_msek_per_rack_km: float = Field(0.0, ge=0)
    # among plans of the proved least cost: "rule" picks fewer new sites, then more
    # existing sites, then lower latency (nisd.optimise.ties); "solver" keeps the first found
    ties: Literal["rule", "solver"] = "rule"

    @model_validator(mode="after")
    def _consistent(self) -> ObjectiveConfig:
        if self.name == "weighted" and not self.weights:
            raise ValueError("objective 'weighted' needs [objective.weights]")
        if self.name == "lexicographic" and len(self.order) < 2:
            raise ValueError("objective 'lexicographic' needs order = [at least two names]")
        return self


class ServiceLevel(Strict):
    """After every scenario of ``sets``, at least ``serve[c]`` of class c's load is served."""

    sets: list[str] = Field(min_length=1)
    serve: dict[str, float]

    @field_validator("serve")
    @classmethod
    def _shares(cls, v: dict[str, float]) -> dict[str, float]:
        for name, share in v.items():
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"serve.{name} = {share:g} is not a share between 0 and 1")
        return v


class Crisis(Strict):
    """Capacity-true crisis robustness.

    After every scenario of ``sets``, each criticality class keeps at least
    its share ``serve`` of its load served: within its crisis latency bound
    over the surviving fibre, by surviving sites that hold its data, within
    their capacity. ``levels`` is the short form "these classes in full"
    (used when ``serve`` is empty). ``tiers`` add more scenario sets with
    their own shares. Load that no site at all could reach after a scenario
    (cut off) is reported as lost and does not count towards the shares.
    """

    sets: list[str] = Field(default_factory=list)
    levels: list[str] = Field(default_factory=lambda: ["critical"])
    serve: dict[str, float] = Field(default_factory=dict)
    tiers: list[ServiceLevel] = Field(default_factory=list)
    # "shared": spare room at a site serves whichever failure happens (failure-dependent
    # relocation); "dedicated": every site reserves room for all load backed up there (1+1).
    backup: Literal["shared", "dedicated"] = "shared"
    # After a failure a user's load may be split over several of its surviving sites;
    # false: each user moves whole to one site (or is not served).
    split: bool = True
    # A scenario that cuts a demand point off from every candidate site (its own
    # fibre is gone) cannot be answered by any placement: "skip" records it in
    # the plan as lost load, "fail" makes the scenario infeasible.
    cut_off: Literal["skip", "fail"] = "skip"
    # A scenario that splits the fibre network leaves some users on an island that
    # still reaches candidate sites, but none in the national network (the piece with
    # the most candidate sites). "serve": they must still be served (a copy of their
    # data on the island); "skip": they are recorded as islanded, lost load shown apart,
    # and the service levels count the rest.
    islands: Literal["serve", "skip"] = "serve"

    @field_validator("serve")
    @classmethod
    def _shares(cls, v: dict[str, float]) -> dict[str, float]:
        return ServiceLevel._shares(v)

    def set_names(self) -> list[str]:
        """Every scenario set of the service levels, once, main sets first."""
        out: list[str] = []
        for sl in self.service_levels():
            out += [s for s in sl.sets if s not in out]
        return out

    def service_levels(self) -> list[ServiceLevel]:
        """Every (sets, shares) pair: the main one first, then the tiers."""
        main = self.serve or {lv: 1.0 for lv in self.levels}
        out = [ServiceLevel(sets=self.sets, serve=main)] if self.sets else []
        return out + list(self.tiers)


class Presence(Strict):
    """Required presence in a named region: at least ``min`` opened sites in the listed
    counties or power zones; with ``partner_km``, at least one of them has another opened
    site within that distance (a synchronous-replication partner, ~100 km of fibre)."""

    name: str
    counties: list[str] = Field(default_factory=list)
    power_zones: list[str] = Field(default_factory=list)
    min: int = Field(1, ge=1)
    partner_km: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _somewhere(self) -> Presence:
        if not self.counties and not self.power_zones:
            raise ValueError(f"presence {self.name!r} needs counties or power_zones")
        return self


class ExistingSite(Strict):
    """A site the state runs today: its type, and when it may or must close."""

    type: str
    # in service up to and including the year before this one (a planned closure)
    close: int | None = None
    # may close earlier than planned, saving its running cost
    may_close: bool = False


YearValues = float | dict[str, float]


class Branch(Strict):
    """One future of a roll-out under uncertainty: its probability and what differs in it
    from the decision year on (the years before it are the roll-out as written)."""

    name: str = Field(min_length=1)
    probability: float = Field(gt=0, le=1)
    # workloads, demand ids or kinds (onboarding's keys) that never join
    decline: list[str] = Field(default_factory=list)
    # onboarding years that differ (a later join), keys as onboarding's
    onboarding: dict[str, int] = Field(default_factory=dict)
    # every load grows by this share a year from the decision year on (None: as written)
    growth_per_year: float | None = Field(None, ge=0, le=1)
    # crisis sets required from these years on, added to the roll-out's ramp
    readiness: dict[str, list[str]] = Field(default_factory=dict)
    # the capital budget of every year from the decision year on (None: as written)
    capital_budget_msek: float | None = Field(None, ge=0)


class Uncertainty(Strict):
    """A roll-out planned over several futures (a two-stage scenario tree).

    Decisions before ``decision_year`` (sites in service, construction started, who runs
    where) are shared by every branch; from the decision year on each branch plans its own
    years. ``objective``: the least ``expected`` discounted cost, the least ``worst``
    branch's cost, or the least largest ``regret`` against each branch's own best roll-out.
    ``method``: how the tree is solved (``decomposition``: each branch on its own, where the
    years are linked only through the sites; ``extensive``: one model; ``auto``).
    """

    decision_year: int = Field(ge=1900, le=2200)
    objective: Literal["expected", "worst", "regret"] = "expected"
    # how the tree is solved: "decomposition" plans each branch on its own side by side
    # (nisd.optimise.rollout.scenario_decomposition; years linked only through the sites),
    # "extensive" one model of every branch, "auto" the decomposition where it applies
    method: Literal["auto", "decomposition", "extensive"] = "auto"
    branches: list[Branch] = Field(min_length=1, max_length=64)

    @model_validator(mode="after")
    def _tree(self) -> Uncertainty:
        total = sum(b.probability for b in self.branches)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(
                f"the branches' probabilities sum to {total:g}, not 1 ("
                + ", ".join(f"{b.name} {b.probability:g}" for b in self.branches)
                + ")"
            )
        names = [b.name for b in self.branches]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"branch names must differ: {', '.join(twice)} used twice")
        return self


class RolloutConfig(Strict):
    """Program 2032 over time: what is built in which year, who joins when, how ready.

    Years run from ``first_year`` to ``last_year``. A new site of type t needs
    ``lead_time_years[t]`` years of construction (its capital cost
    ``capital_cost_msek[t]`` spent evenly over them) and is in service from the year
    after; once in service it stays open. Its running cost is the site type's
    annual cost (times the site's cost factor), as in a static plan. Costs are
    discounted at ``discount_rate`` to ``first_year``.
    """

    first_year: int = Field(ge=1900, le=2200)
    last_year: int = Field(ge=1900, le=2200)
    discount_rate: float = Field(0.0, ge=0, le=1)
    # one number for every year, or a table {"2027" = 400, ...} giving every year
    capital_budget_msek: YearValues | None = None
    operating_budget_msek: YearValues | None = None
    lead_time_years: dict[str, int] = Field(default_factory=dict)
    capital_cost_msek: dict[str, float] = Field(default_factory=dict)
    # a type's annual cost (site_types.csv) includes its build's annuity over this life:
    # a roll-out pays the build when it is built, and runs the site for the rest
    asset_life_years: dict[str, int] = Field(default_factory=dict)
    existing: dict[str, ExistingSite] = Field(default_factory=dict)
    # the year a demand point joins (key: demand id, workload or demand kind, in that order)
    onboarding: dict[str, int] = Field(default_factory=dict)
    # the year everyone else joins (default: last_year, the programme's end state)
    onboarding_default: int | None = None
    # every load grows by this share a year from first_year on
    growth_per_year: float = Field(0.0, ge=0, le=1)
    # primary-site changes of users already served, per year (None: no limit)
    max_migrations_per_year: int | None = Field(None, ge=0)
    migration_cost_msek: float = Field(0.0, ge=0)
    # from which year which crisis sets must hold: {"2028" = ["single-site"], ...};
    # cumulative; the sets must be among [crisis]'s; default: all of them from last_year
    readiness: dict[str, list[str]] = Field(default_factory=dict)
    # "cost" (discounted total), "readiness" (each readiness step as early as the cost
    # allows, within tolerance) or "moves" (fewest migrations), in order (lexicographic:
    # the default finds the cheapest roll-out, then the fewest moves at that cost)
    objective: list[Literal["cost", "readiness", "moves"]] = Field(
        default_factory=lambda: list[Literal["cost", "readiness", "moves"]](["cost", "moves"]),
        min_length=1,
    )
    tolerance: float = Field(0.0, ge=0, le=1)
    # fees: capital is recovered by the agencies' fees in equal parts over this many years
    recover_years: int = Field(3, ge=1, le=50)
    opening_balance_msek: float = 0.0
    # several futures from a decision year on (a two-stage roll-out); None: one future
    uncertainty: Uncertainty | None = None

    @field_validator("asset_life_years")
    @classmethod
    def _life(cls, v: dict[str, int]) -> dict[str, int]:
        for k, n in v.items():
            if not 1 <= n <= 100:
                raise ValueError(f"{k} = {n} is not an asset life between 1 and 100 years")
        return v

    @field_validator("lead_time_years")
    @classmethod
    def _leads(cls, v: dict[str, int]) -> dict[str, int]:
        for k, n in v.items():
            if not 0 <= n <= 20:
                raise ValueError(f"{k} = {n} is not a lead time between 0 and 20 years")
        return v

    @field_validator("capital_cost_msek")
    @classmethod
    def _capex(cls, v: dict[str, float]) -> dict[str, float]:
        return non_negative(v)

    @model_validator(mode="after")
    def _years(self) -> RolloutConfig:
        if self.last_year < self.first_year:
            raise ValueError(f"last_year {self.last_year} is before first_year {self.first_year}")
        if self.last_year - self.first_year > 30:
            raise ValueError("a roll-out spans at most 31 years")
        span = range(self.first_year, self.last_year + 1)

        def inside(year: int, where: str) -> None:
            if year not in span:
                raise ValueError(f"{where} = {year} is outside {self.first_year}–{self.last_year}")

        for key, year in self.onboarding.items():
            inside(year, f"onboarding.{key}")
        if self.onboarding_default is not None:
            inside(self.onboarding_default, "onboarding_default")
        for key in self.readiness:
            if not key.isdigit():
                raise ValueError(f"readiness key {key!r} is not a year")
            inside(int(key), f"readiness.{key}")
        for key, ex in self.existing.items():
            if ex.close is not None and ex.close <= self.first_year:
                raise ValueError(
                    f"existing.{key}.close = {ex.close} is not after first_year {self.first_year}"
                )
        for name in ("capital_budget_msek", "operating_budget_msek"):
            value = getattr(self, name)
            if isinstance(value, dict):
                years = {str(y) for y in span}
                missing = sorted(years - set(value))
                extra = sorted(set(value) - years)
                if missing or extra:
                    raise ValueError(
                        f"{name} must give every year {self.first_year}–{self.last_year}"
                        + (f"; missing {', '.join(missing)}" if missing else "")
                        + (f"; not a year of the roll-out: {', '.join(extra)}" if extra else "")
                    )
                bad = [f"{k} = {v:g}" for k, v in value.items() if v < 0]
            else:
                bad = [f"{value:g}"] if value is not None and value < 0 else []
            if bad:
                raise ValueError(f"{name} must not be negative ({', '.join(bad)})")
        if self.uncertainty is not None:
            self._check_tree(self.uncertainty, span)
        if len(set(self.objective)) != len(self.objective):
            raise ValueError("objective names a goal twice")
        if "readiness" in self.objective and self.objective[0] != "cost":
            raise ValueError(
                'objective: "readiness" needs "cost" first (readiness is advanced within '
                "tolerance of the cheapest roll-out's cost)"
            )
        return self

    def _check_tree(self, u: Uncertainty, span: range) -> None:
        """Years of the tree inside the roll-out, and each branch's changes from the
        decision year on."""
        d = u.decision_year
        if not self.first_year < d <= self.last_year:
            raise ValueError(
                f"uncertainty.decision_year = {d} must be after first_year {self.first_year} "
                f"and at most last_year {self.last_year} (a first stage needs a year before it)"
            )
        for n, b in enumerate(u.branches):
            where = f"uncertainty.branches[{n}] ({b.name})"
            for key, year in b.onboarding.items():
                if year not in span or year < d:
                    raise ValueError(
                        f"{where}.onboarding.{key} = {year}: a branch changes the years from "
                        f"the decision year {d} to {self.last_year}"
                    )
            for key in b.readiness:
                if not key.isdigit() or int(key) not in span or int(key) < d:
                    raise ValueError(
                        f"{where}.readiness key {key!r}: a branch's readiness starts in a year "
                        f"from the decision year {d} to {self.last_year}"
                    )
            both = sorted(set(b.decline) & set(b.onboarding))
            if both:
                raise ValueError(f"{where}: {', '.join(both)} both declines and joins")
        if "readiness" in self.objective:
            raise ValueError(
                'objective: the "readiness" goal is not supported with [rollout.uncertainty] '
                '(use ["cost"] or ["cost", "moves"])'
            )

    def annuity(self, type_id: str) -> float:
        """The yearly share of a type's capital cost inside its annual cost (0 without an
        asset life): ``K r / (1 - (1 + r)^-n)`` at the discount rate r over n years."""
        n = self.asset_life_years.get(type_id)
        k = self.capital_cost_msek.get(type_id, 0.0)
        if not n or not k:
            return 0.0
        r = self.discount_rate
        return k / n if r == 0 else k * r / (1.0 - (1.0 + r) ** -n)

    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))

    def per_year(self, name: str) -> dict[int, float] | None:
        """``capital_budget_msek`` or ``operating_budget_msek`` by year (None: no limit)."""
        value = getattr(self, name)
        if value is None:
            return None
        if isinstance(value, dict):
            return {int(k): float(v) for k, v in value.items()}
        return {y: float(value) for y in self.years}

    def ramp(self) -> dict[int, list[str]]:
        """The crisis sets that must hold in each year (cumulative)."""
        out: dict[int, list[str]] = {}
        held: list[str] = []
        steps = {int(k): v for k, v in self.readiness.items()}
        for y in self.years:
            for s in steps.get(y, []):
                if s not in held:
                    held.append(s)
            out[y] = list(held)
        return out


TargetKind = Literal["site", "node", "srlg"]


class War(Strict):
    """Robust to any attack within a budget, without listing the attacks.

    ``attacks`` is the attacker's budget: with every target costing 1 (the
    default ``cost``) the plan keeps the service levels ``serve`` after the
    loss of *any* ``attacks`` targets of the kinds ``targets`` (the plan's
    own opened sites, backbone nodes, shared-risk groups), capacity-true.
    0 switches it off. ``harden_cost_msek`` (per site type) prices the
    hardening of a site for ``nisd attack --fortify``.
    """

    attacks: float = Field(0.0, ge=0)
    targets: list[TargetKind] = Field(default_factory=lambda: list[TargetKind](["site"]))
    cost: dict[TargetKind, float] = Field(default_factory=dict)
    serve: dict[str, float] = Field(default_factory=lambda: {"critical": 1.0})
    harden_cost_msek: dict[str, float] = Field(default_factory=dict)

    @field_validator("serve")
    @classmethod
    def _shares(cls, v: dict[str, float]) -> dict[str, float]:
        return ServiceLevel._shares(v)

    @field_validator("cost", "harden_cost_msek")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        for k, c in v.items():
            if not c > 0:
                raise ValueError(f"{k} = {c:g} must be positive")
        return v

    @property
    def on(self) -> bool:
        return self.attacks > 0


class FeesConfig(Strict):
    """How the agencies' fees pay for NISD (``nisd fees``).

    ``financing``: "loan" (capital borrowed while building, repaid through depreciation
    over the type's asset life from the year in service, with interest: how the state
    finances fixed assets) or "recover" (capital recovered over ``[rollout]
    recover_years``); see :mod:`nisd.study.financing`. Shapley values stop when every
    payer's value is known within ``precision`` of the cost at ``confidence``, or after
    ``time_budget_s``, whichever first; exact up to ``exact_limit`` payers.
    ``today_msek_per_year``: what the agencies' own IT operations cost today, set against
    NISD's cost (with its ``today_source``).
    """

    financing: Literal["loan", "recover"] = "loan"
    # ASSUMPTION: 2.5 % a year, near the state's cost of borrowing in 2025–2026, which
    # Riksgälden's loans to agencies follow; not a quoted rate: set the current one
    interest_rate: float = Field(0.025, ge=0, le=0.5)
    precision: float = Field(0.01, gt=0, le=0.5)
    confidence: float = Field(0.95, gt=0.5, lt=1)
    time_budget_s: float = Field(60.0, gt=0, le=86_400)
    exact_limit: int = Field(8, ge=1, le=14)
    today_msek_per_year: float | None = Field(None, ge=0)
    today_source: str = ""


class PlanConfig(Strict):
    """All parameters of ``nisd plan``; constraint families are switched here."""

    description: str = ""
    extends: str | None = None
    p: int | None = Field(None, ge=1)
    p_min: int | None = Field(None, ge=0)
    p_max: int | None = Field(None, ge=1)
    budget_msek: float | None = Field(None, gt=0)
    required: list[str] = Field(default_factory=list)
    require_existing: bool = False
    forbidden: list[str] = Field(default_factory=list)
    capacity: bool = True
    # primary load x (1 + growth) within utilisation_cap x capacity (room for growth and
    # for running below full); crisis scenarios may still use a site's whole capacity
    utilisation_cap: float = Field(1.0, gt=0, le=1)
    growth: float = Field(0.0, ge=0, le=10)
    # classified load only at site types protected enough (demand.protection ≤ type.protection)
    protection: bool = True
    k: int = Field(2, ge=1, le=5)
    separation_km: float | None = 200.0
    separate_county: bool = False
    separate_power_zone: bool = False
    separate_hazard_area: bool = False
    min_site_distance_km: float | None = Field(None, ge=0)
    min_per_macroregion: int | None = Field(None, ge=0)
    min_per_power_zone: int | None = Field(None, ge=0)
    max_per_county: int | None = Field(None, ge=1)
    hazards: Literal["hard", "soft", "off"] = "hard"
    # per hazard class, overriding ``hazards`` (e.g. military bases priced, not forbidden)
    hazard_classes: dict[str, Literal["hard", "soft", "off"]] = Field(default_factory=dict)
    hazard_penalty_msek: float = Field(50.0, ge=0)
    replication_ms: float | None = Field(None, gt=0)
    crisis: Crisis = Crisis()
    war: War = War()
    # a labour market for the staff: type → least population of the site's town
    min_population: dict[str, int] = Field(default_factory=dict)
    # no site closer than this to a land border (hazards of class land_border)
    border_km: float | None = Field(None, gt=0)
    # no site closer than this to the coast (hazards of class coast): Baltic exposure
    coast_km: float | None = Field(None, gt=0)
    # required presence in named regions, e.g. a government core in Mälardalen
    presence: list[Presence] = Field(default_factory=list)
    # a roll-out over years (``nisd rollout``); a static plan ignores it
    rollout: RolloutConfig | None = None
    fees: FeesConfig = FeesConfig()
    objective: ObjectiveConfig = ObjectiveConfig()
    solver: SolverOptions = SolverOptions()

    @field_validator("separation_km")
    @classmethod
    def _bsi(cls, v: float | None) -> float | None:
        if v is not None and v < 100:
            raise ValueError(
                "separation_km must be at least 100 (BSI: never under 100 km); "
                "omit it to switch geo-redundancy off"
            )
        return v

    @model_validator(mode="after")
    def _counts(self) -> PlanConfig:
        if self.p is not None and (self.p_min is not None or self.p_max is not None):
            raise ValueError("give p, or p_min/p_max, not both")
        lo = self.p if self.p is not None else self.p_min
        hi = self.p if self.p is not None else self.p_max
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"p_min {lo} is larger than p_max {hi}")
        if hi is not None and hi < self.k:
            raise ValueError(f"at most {hi} sites cannot give each demand point k={self.k} sites")
        w = self.war
        if w.on and "site" in w.targets and any(v >= 1.0 for v in w.serve.values()):
            r = int(w.attacks // w.cost.get("site", 1.0) + 1e-9)
            if self.k <= r:
                raise ValueError(
                    f"war.attacks = {w.attacks:g} on sites with a class served in full needs "
                    f"k >= {r + 1} (now {self.k}): an attacker would take out every site "
                    "that holds a user's data"
                )
        if self.war.on and not self.crisis.split:
            raise ValueError(
                "war.attacks needs crisis.split = true (the worst attack is exact for split load)"
            )
        return self
