"""The engine as a pipeline: stages that read and write one :class:`SearchState`.

:func:`optimise` (what :func:`matcher.solve.solve` and :func:`matcher.resolve.resolve`
run on a compiled instance) starts from a greedy plan and hands the state through
:data:`PIPELINE`, in order; each stage decides from the state whether it applies (a
city, a station, a proof still open ...) and otherwise leaves it as it is:

1. :func:`city_search`: above ``full_model_max_pairs`` pairs, neighbourhood search on
   sub-models, with the city's coverage bound computed beside it;
2. :func:`columns`: at station size, column generation (:mod:`matcher.search.colgen`) and, where
   its plan falls short of its bound, the gap closers (:func:`matcher.search.proof.close_gap`),
   with the full model built beside it (:class:`matcher.search.portfolio.MipBeside`) and, if
   still open, neighbourhood search started beside what follows;
3. :func:`full_model`: the full CP-SAT model, where a later stage needs it;
4. :func:`settle`: coverage proved by the columns: levels 2-3 (:mod:`matcher.search.refine`);
5. :func:`prove`: coverage still open: HiGHS (with branch-and-price beside it) or CP-SAT
   on the full model, then levels 2-3 if that proved coverage;
6. :func:`collect_search`: the plan of the search beside, if better;
7. :func:`top_up`: where coverage is not proved, a greedy pass adds what it can.

Every helper process and thread lives in :mod:`matcher.search.portfolio`; every deadline comes
from the state's :class:`matcher.clock.Budget`; every tuning constant from its
:class:`matcher.params.SolveParams`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from matcher.clock import Budget, Deadline, OutOfTimeError
from matcher.model.eligibility import build_pairs
from matcher.model.evaluate import LexObjective, coverage_units, primary_of
from matcher.model.full import LinliModel, build
from matcher.model.instance import Instance
from matcher.model.pairs import Pairs
from matcher.model.plan import Chosen, IndexedPlan
from matcher.params import Prover, SolveParams
from matcher.progress import CheckIn, Reporter
from matcher.search import colgen, greedy, lns, proof
from matcher.search.branch import BranchResult
from matcher.search.portfolio import BranchBeside, CityBoundBeside, MipBeside, Progress, SearchBeside
from matcher.search.prebuild import Prebuilt, prebuilt_of
from matcher.search.refine import full_model_settles, settle_lower_levels
from matcher.search.trace import Phase, Search
from matcher.search.transfer import hint


@dataclass
class Outcome:
    """What :func:`optimise` found: a plan over ``pairs`` and its proved bound."""

    pairs: Pairs
    plan: IndexedPlan
    bound_units: int
    """Proved upper bound on coverage units (at least the plan's own coverage)."""
    build_seconds: float
    proved_seconds: float | None
    phases: list[Phase]
    deterministic: bool = False
    """Asked for, and nothing was cut short by the clock."""


@dataclass
class SearchState:
    """What the stages share: the incumbent, the proved bound, and what is running beside."""

    inst: Instance
    params: SolveParams
    budget: Budget
    """The whole call's time."""
    work: Budget
    """The search's time: it ends early enough to explain the unmet needs and write the plan."""
    pairs: Pairs
    plan: IndexedPlan
    """The incumbent: the best valid plan so far, numbered over ``pairs``."""
    bound_units: int
    """Proved upper bound on coverage units."""
    build_seconds: float
    search: Search
    """CP-SAT settings and the record of the phases."""
    lns_stall: int | None = 0
    prover: Prover = "highs"
    """The prover for levels 1-2 (CP-SAT where the export cannot carry a constraint)."""
    proved_coverage: bool = False
    proved_seconds: float | None = None
    both_levels: bool = False
    """Levels 1-2 (coverage and continuity) both proved."""
    complete: bool = False
    """Deterministic, and nothing was cut short so far."""
    lex: LexObjective | None = None
    """The columns' levels-1-2 objective (once they ran)."""
    zero: list[int] = field(default_factory=list)
    """Pairs in no plan better than the incumbent: HiGHS may fix them to zero."""
    master: colgen.ColgenResult | None = None
    """The coverage-only master, for branch-and-price beside HiGHS."""
    lm: LinliModel | None = None
    prebuilt: Prebuilt | None = None
    searching: SearchBeside | None = None
    progress: Reporter | None = None
    """Reports the incumbent and the bound to the caller's ``on_progress`` (None: nobody asked)."""

    @property
    def station(self) -> bool:
        """Whether the full model may be built (the city path otherwise)."""
        return 0 < len(self.pairs) <= self.params.full_model_max_pairs

    def covered(self) -> int:
        """Coverage units of the incumbent."""
        return coverage_units(self.inst, self.plan)

    def check_proved(self) -> bool:
        """Whether the incumbent meets the bound; records when coverage was first proved."""
        self.proved_coverage = self.covered() >= self.bound_units
        if self.proved_coverage:
            self.proved_seconds = self.budget.elapsed()
        return self.proved_coverage

    def report(self, stage: str, *, force: bool = False) -> None:
        """Tell the caller where the search stands (see :mod:`matcher.progress`); nothing
        is computed when nobody asked."""
        if self.progress is not None and self.progress.active:
            self.progress.update(stage, self.covered(), self.bound_units, force=force)

    def watcher(self, stage: str) -> Callable[[int], bool] | None:
        """For a search in this process that reports its plan's coverage units as it goes
        (:func:`matcher.search.lns.improve`'s ``stop``): reports them, never stops it; None
        when nobody asked, so the search runs exactly as without."""
        progress = self.progress
        if progress is None or not progress.active:
            return None

        def watch(covered: int) -> bool:
            progress.update(stage, covered, self.bound_units)
            return False

        return watch

    def checker(self) -> CheckIn | None:
        """For a long loop in this process (column generation's rounds, branch-and-price's
        nodes ...): a :data:`CheckIn` that reports, beside the incumbent and the bound in
        hand, what the loop has (see :data:`CheckIn`); None when nobody asked, so the loop
        computes nothing for it."""
        progress = self.progress
        if progress is None or not progress.active:
            return None

        last: list[tuple[int | None, int | None]] = []

        def check_in(stage: str, covered: int | None = None, bound: int | None = None) -> None:
            if last == [(covered, bound)] and not progress.due():
                return  # nothing new within the interval (some loops check in very often)
            last[:] = [(covered, bound)]
            held = self.covered()
            progress.update(
                stage,
                held if covered is None else max(held, covered),
                self.bound_units if bound is None else min(self.bound_units, bound),
            )

        return check_in

    def settle(self) -> None:
        """Levels 2-3 on the proved incumbent."""
        check_in = self.checker()
        tick = None if check_in is None else lambda: check_in("settle", None, None)
        self.plan = settle_lower_levels(
            self.inst, self.pairs, self.lm, self.plan, self.search, self.both_levels, tick
        )

    def take(self, chosen: Chosen) -> None:
        """A stage's working view (over ``pairs``) becomes the incumbent."""
        self.plan = IndexedPlan.from_chosen(self.inst, self.pairs, chosen)

    def outcome(self) -> Outcome:
        """The result: the incumbent, its bound (never below it), the record."""
        bound_units = max(self.bound_units, self.covered())  # equal only when a solver proved it
        complete = self.complete and self.budget.remaining() > 0
        return Outcome(
            self.pairs,
            self.plan,
            bound_units,
            self.build_seconds,
            self.proved_seconds,
            self.search.phases,
            complete,
        )


Stage = Callable[[SearchState], None]
"""A step of the pipeline: reads the state and updates it."""


def start(
    inst: Instance,
    budget: Budget,
    params: SolveParams,
    initial: IndexedPlan | None = None,
    lns_stall: int | None = 0,
    progress: Reporter | None = None,
) -> SearchState:
    """The first stage: eligible pairs and a greedy plan (always valid), the reachable bound."""
    # The eligibility pass always completes: without it no plan can be explained.
    pairs = build_pairs(inst)
    start_plan = initial.numbered(pairs).to_chosen() if initial is not None else None
    chosen = greedy.fill(inst, pairs, start_plan, deadline=budget.deadline)
    build_seconds = budget.elapsed()
    # Searching stops early enough to explain the unmet needs and write the plan in time.
    margin = min(0.1 * budget.limit, 0.05 + params.finish_s_per_need * inst.n_needs)
    work = budget.until(budget.end - margin)
    reachable = int(inst.need_value[pairs.by_need.sizes() > 0].sum())
    return SearchState(
        inst=inst,
        params=params,
        budget=budget,
        work=work,
        pairs=pairs,
        plan=IndexedPlan.from_chosen(inst, pairs, chosen),
        bound_units=reachable,
        build_seconds=build_seconds,
        search=Search(work.end, params),
        lns_stall=lns_stall,
        prover=params.prover,
        progress=progress,
    )


def city_search(state: SearchState) -> None:
    """A city: neighbourhood search on small sub-models, the coverage bound beside it.

    The full model would spend the time limit in building and presolve.  Once the search
    has closed most of the greedy plan's gaps, a forked process bounds coverage on the
    core the plan leaves open, beside the search.  Not for a re-solve with a move budget
    (it spans the whole plan, which a neighbourhood's sub-model cannot see), nor a
    deterministic solve.
    """
    p, inst, pairs, work = state.params, state.inst, state.pairs, state.work
    if len(pairs) <= p.full_model_max_pairs or inst.move_budget is not None or p.deterministic:
        return
    first = work.share(p.city_bound_after)
    watch = state.watcher("city_search")
    search = functools.partial(
        lns.improve,
        size=p.lns_size,
        step_seconds=p.lns_step_s,
        max_growth=p.lns_max_growth,
        max_stall=state.lns_stall,
    )
    chosen = search(inst, pairs, state.plan.to_chosen(), first, seed=p.seed, stop=watch)
    # Reported, the bound is sent as it stands after each of its pricing rounds, and taken
    # in at each step of the search (the search does not use it, so its plan is the same).
    beside = CityBoundBeside(
        inst, pairs, chosen, work.end - p.city_bound_margin_s, p, stream=watch is not None
    )

    def watch_both(covered: int) -> bool:
        units = beside.poll()
        if units is not None:
            state.bound_units = min(state.bound_units, units)
        return watch is not None and watch(covered)

    second = search(
        inst, pairs, chosen, work.deadline, seed=p.seed + 1, stop=watch_both if watch is not None else None
    )
    state.take(second)
    units = beside.result(max(0.1, work.remaining()))
    if units is not None:
        state.bound_units = min(state.bound_units, units)


def columns(state: SearchState) -> None:
    """Station size: column generation, then the gap closers where its plan falls short.

    Column generation prices one volunteer at a time: only where its objective and every
    rule that binds are per volunteer (:func:`colgen.applies`: not for a re-solve).  It gets
    ``colgen_share`` of the time left (deterministic: all of it, as a safety net;
    convergence, not the clock, ends it), and starts only with time for its set-up and
    first round, which are not interruptible.
    """
    p, inst, pairs, work = state.params, state.inst, state.pairs, state.work
    share = 1.0 if p.deterministic else p.colgen_share
    colgen_time = work.seconds(share)
    colgen_fits = colgen_time >= p.colgen_s_per_pair * len(pairs)
    wanted = state.station and state.prover == "highs" and p.columns and colgen.applies(inst)
    state.complete = p.deterministic and state.budget.remaining() > 0 and (colgen_fits or not wanted)
    if not (wanted and colgen_fits):
        return
    lex = state.lex = LexObjective.of_columns(inst, pairs)
    builder: MipBeside | None = None
    if not p.deterministic and MipBeside.available():
        # The full model, in case the columns do not settle coverage, built on the core
        # they leave idle.
        builder = MipBeside(inst, pairs, work.end)
    check_in = state.checker()
    weight = lex.weight
    # Each round's Lagrangian bound, on coverage: the primary value is weight x coverage plus
    # continuity (< weight), so no plan covers more than floor(bound) // weight units.  The
    # columns' plan is taken only once they end: meanwhile the incumbent stands.
    on_round = None if check_in is None else lambda bound: check_in("columns", None, bound // weight)
    # At most a share of the time left: the full model needs the rest if the bound falls short.
    cg = colgen.prove(
        inst,
        pairs,
        state.plan.to_chosen(),
        weight,
        Deadline.after(colgen_time),
        mip_nodes=p.deterministic_mip_nodes if p.deterministic else None,
        params=p,
        on_round=on_round,
        tick=None if check_in is None else lambda: check_in("columns", None, None),
    )
    state.complete = state.complete and cg.complete
    state.search.phases.append(
        Phase(
            name="coverage+continuity (columns)",
            status="OPTIMAL" if cg.bound is not None and cg.primary >= cg.bound else "FEASIBLE",
            seconds=cg.seconds,
            objective=cg.primary,
            bound=float("nan") if cg.bound is None else cg.bound,
        )
    )
    _take_columns(state, cg)
    proved = state.proved_coverage = state.covered() >= state.bound_units
    if builder is not None and proved:
        builder.close()
    elif builder is not None:
        # the model built beside: waiting for it is a stage of its own on the page
        tick = None if check_in is None else lambda: check_in("full_model", None, None)
        state.prebuilt = builder.request(state.plan.to_chosen(), state.zero, work.end, tick)
    if proved:
        state.proved_seconds = state.budget.elapsed()
    elif not p.deterministic:
        # Where the columns hold no plan at their bound, one may still exist (the bound is
        # often the optimum): neighbourhood search from the best plan so far, on the other
        # core from now on, looks for it while the full model is built and proved; it
        # stops at the bound or when told.
        state.searching = SearchBeside(inst, pairs, state.plan.to_chosen(), state.bound_units, work.end, p)


def _take_columns(state: SearchState, cg: colgen.ColgenResult) -> None:
    """Take in the columns' plan and bound; where the plan falls short of the bound (and the
    clock may decide), close the gap (:func:`matcher.search.proof.close_gap`)."""
    inst, pairs, lex = state.inst, state.pairs, state.lex
    assert lex is not None  # set by the columns stage
    if cg.found is not None and cg.primary >= primary_of(inst, state.plan, lex):
        state.take(cg.found)
    if cg.bound is not None:
        state.bound_units = min(state.bound_units, cg.bound // lex.weight)
        state.both_levels = primary_of(inst, state.plan, lex) >= cg.bound
    state.report("columns")  # the columns' plan and bound, before the gap closers
    if not state.params.deterministic and state.covered() < state.bound_units:
        chosen, state.bound_units, state.zero, state.master = proof.close_gap(
            inst,
            pairs,
            cg,
            state.plan.to_chosen(),
            state.bound_units,
            lex.weight,
            state.search,
            state.work,
            state.checker(),
        )
        state.take(chosen)
        if cg.bound is not None:
            state.both_levels = primary_of(inst, state.plan, lex) >= cg.bound


def full_model(state: SearchState) -> None:
    """Station size: build the full CP-SAT model where a later stage needs it.

    Proved by the columns, the model is only needed for what comes after levels 1-2, and
    then only where those levels are not settled by neighbourhoods; otherwise where no
    MIP came from the process beside.
    """
    p = state.params
    if state.proved_coverage:
        needed = full_model_settles(state.inst, state.pairs, state.both_levels, p)
    else:
        needed = state.prebuilt is None
    if not (state.station and not p.deterministic and needed):
        return
    watch = Budget.starting_now(0.0)
    try:
        state.lm = build(state.inst, state.pairs, state.work.deadline)
    except OutOfTimeError:
        state.lm = None  # out of time while building: the plan so far stands
    state.build_seconds += watch.elapsed()


def settle(state: SearchState) -> None:
    """Coverage proved by the columns (station size): levels 2-3."""
    if state.station and not state.params.deterministic and state.proved_coverage:
        state.settle()


def prove(state: SearchState) -> None:
    """Coverage still open, the full model at hand: prove levels 1-2 on it, then levels 2-3.

    HiGHS on the exported model (with branch-and-price beside it where the coverage master
    is kept), or CP-SAT where asked or where the export cannot carry a constraint.
    """
    if state.proved_coverage or (state.lm is None and state.prebuilt is None):
        return
    if state.work.remaining() <= 0.01:
        return
    lm = state.lm
    if lm is not None:
        hint(lm, state.plan.to_chosen())
    if state.prover == "highs" and state.prebuilt is None and lm is not None:
        try:
            state.prebuilt = prebuilt_of(lm, state.zero)
        except NotImplementedError:
            state.prover = "cpsat"  # a constraint the export cannot carry exactly
    found: Chosen | None = None
    proved: int | None = None
    branched: BranchResult | None = None
    if state.prover == "highs" and state.prebuilt is not None:
        found, proved, branched = _prove_with_highs(state, state.prebuilt)
    elif lm is not None:
        found, proved, state.both_levels = proof.prove_with_cpsat(lm, state.search)
    _take_proof(state, found, proved, branched)
    if state.check_proved():
        state.settle()


def _take_proof(
    state: SearchState, found: Chosen | None, proved: int | None, branched: BranchResult | None
) -> None:
    """Take in what the proof found: the search beside's plan and the solver's where
    better (a solver may stop on a plan worse than its own hint), the branching's plan and
    bound, the solver's bound."""
    inst, pairs = state.inst, state.pairs
    if state.searching is not None:
        assert state.lex is not None  # the search beside starts with the columns
        state.plan = proof.take_better(state.searching, inst, pairs, state.lex, state.plan)
        state.searching = None
    if found is not None:
        # On the model when built here (its objective knows a re-solve's stays and backs),
        # else as built beside (a plain solve's).
        lex = (
            state.lm.lex
            if state.lm is not None
            else state.prebuilt.lex
            if state.prebuilt is not None
            else None
        )
        if lex is None:
            raise ValueError("_take_proof: needs the model or what was built beside")
        plan = IndexedPlan.from_chosen(inst, pairs, found)
        if primary_of(inst, plan, lex) >= primary_of(inst, state.plan, lex):
            state.plan = plan
    if branched is not None:
        chosen, state.bound_units = proof.take_branched(
            inst, branched, state.plan.to_chosen(), state.bound_units
        )
        state.take(chosen)
    if proved is not None:
        state.bound_units = min(state.bound_units, proved)


def _prove_with_highs(
    state: SearchState, prebuilt: Prebuilt
) -> tuple[Chosen | None, int | None, BranchResult | None]:
    """HiGHS on this thread while the search goes on beside it, and branch-and-price on a
    thread where the coverage master is kept: (plan found, proved bound, the branching).

    HiGHS stops once its bound meets the best plan either has, and both once a plan reaches
    the columns' bound (then HiGHS need not start at all).  Sets ``state.both_levels``.
    """
    p, inst, work = state.params, state.inst, state.work
    incumbent = state.covered()
    searching = state.searching
    best = searching if searching is not None else Progress(incumbent, state.bound_units)
    found: Chosen | None = None
    proved: int | None = None
    branched: BranchResult | None = None
    if searching is not None and searching.report(incumbent):
        state.both_levels = False
    else:
        # Branch-and-price on the coverage master beside HiGHS (see :mod:`matcher.search.branch`):
        # where the master LP is fractional it usually settles coverage in a few branches,
        # HiGHS proves the rest.
        brancher = None
        check_in = state.checker()
        if state.master is not None:
            until = Deadline.after(p.branch_s).at
            brancher = BranchBeside(
                inst, state.master, incumbent, until, lambda: best.covered, p, watched=check_in is not None
            )
        tick = None if check_in is None else functools.partial(_beside, check_in, searching, brancher)
        head = work.seconds(p.branch_head_share, p.branch_head_s)
        if brancher is not None and brancher.wait(head, tick):
            # settled before HiGHS started (HiGHS cannot be stopped in its presolve)
            state.both_levels = False
        else:
            settled = brancher.settled if brancher is not None else None
            found, proved, state.both_levels = proof.prove_with_highs(
                inst, state.pairs, prebuilt, state.search, best, settled, tick
            )
        if brancher is not None:
            branched = brancher.result()
            if branched is not None:
                state.search.phases.append(proof.branch_phase(branched))
    if state.zero:
        # What HiGHS proved holds for the plans without the zero pairs; the others cover
        # at most the incumbent's coverage.
        state.both_levels = False
        if proved is not None:
            proved = max(proved, incumbent)
    return found, proved, branched


def _beside(check_in: CheckIn, searching: SearchBeside | None, brancher: BranchBeside | None) -> None:
    """The proof's heartbeat, on this thread: what the searches beside HiGHS hold, each
    taken in once the proof ends (the search's plan by :func:`matcher.search.proof.take_better`,
    branch-and-price's plan and bound by :func:`matcher.search.proof.take_branched`)."""
    covered = searching.plan_units if searching is not None else None
    bound = None
    figures = brancher.figures if brancher is not None else None
    if figures is not None:
        found, bound = figures
        if found is not None:
            covered = found if covered is None else max(covered, found)
    check_in("prove", covered, bound)


def collect_search(state: SearchState) -> None:
    """The full model was not built or not proved in time: the search beside may have a
    better plan."""
    if state.searching is None:
        return
    assert state.lex is not None  # the search beside starts with the columns
    state.plan = proof.take_better(state.searching, state.inst, state.pairs, state.lex, state.plan)
    state.searching = None
    state.proved_coverage = state.proved_coverage or state.covered() >= state.bound_units


def top_up(state: SearchState) -> None:
    """Coverage not proved: a greedy pass adds what it can (it only adds needs, so it never
    lowers coverage or continuity)."""
    if not state.proved_coverage:
        state.take(
            greedy.fill(state.inst, state.pairs, state.plan.to_chosen(), deadline=state.budget.deadline)
        )


PIPELINE: tuple[Stage, ...] = (city_search, columns, full_model, settle, prove, collect_search, top_up)
"""The stages after :func:`start`, in order."""


def optimise(
    inst: Instance,
    budget: Budget,
    params: SolveParams | None = None,
    *,
    initial: IndexedPlan | None = None,
    lns_stall: int | None = 0,
    progress: Reporter | None = None,
) -> Outcome:
    """The stages of :func:`matcher.solve.solve` on a compiled instance (also what a re-solve runs).

    Parameters
    ----------
    inst
        The compiled problem (with fixed assignments, for a re-solve).
    budget
        When the call started and when it must end.
    params
        Options and tuning (default :class:`matcher.params.SolveParams`).
    initial
        A valid partial plan to start from (its pair numbering, if any, is ignored); the
        greedy plan only adds to it.
    lns_stall
        City size: stop the neighbourhood search after this many steps without a gain
        (0: run to the deadline; None: the search's own default).
    progress
        Where to report the incumbent and the bound: after the greedy start, after each
        stage, and as the city search goes (see :mod:`matcher.progress`; the caller reports
        the end, with the figures it returns).

    Returns
    -------
    Outcome
        The plan over the instance's eligible pairs, with its bound and timings.
    """
    state = start(inst, budget, params or SolveParams(), initial, lns_stall, progress)
    state.report("start", force=True)
    for stage in PIPELINE:
        stage(state)
        state.report(stage.__name__)
    return state.outcome()
