"""Re-solve after cancellations (FORMAT.md, "Change set").

Given the problem, the plan in force and a change set (:func:`resolve`):

1. the plan in force is checked against the original problem (an invalid plan is
   refused, never repaired);
2. the change set is applied (:mod:`matcher.format.changes`), giving the changed problem;
3. every assignment of the plan in force that is still valid in the changed problem is
   *kept*: the change set only takes slots away (and needs out), and a subset of a valid
   plan keeps the aggregate rules 4-6, so an assignment stays valid exactly when its need
   is still there and its volunteer still has every one of its slots;
4. the kept assignments are fixed (:meth:`matcher.model.instance.Instance.with_fixed`) and
   what is left (freed needs, added needs, needs unmet before) is planned around them by
   the same engine as a solve (:func:`matcher.search.stages.optimise`): coverage first, then
   freed needs back with their previous volunteer, then continuity, then travel and load.

With ``allow_moves=K`` the kept assignments are *released* instead of fixed: each has
its volunteer and slots as a home, at most ``K`` may leave it, and moves rank just below
coverage, so the plan uses the fewest moves for the best coverage reachable with ``K``.

Status and bound are those of the re-solve's own question: ``optimal`` means no plan
that keeps the kept assignments (or moves at most ``K`` of them) covers more, and
``coverage_bound`` bounds the coverage of such plans.

:func:`resolve_changed` does steps 3 and 4 for a caller that did 1 and 2 itself (the
service checks and applies a change set in the request, stores the changed problem, and
its job re-solves from that: the change set is applied once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

from matcher.clock import Budget
from matcher.explain import to_format
from matcher.format.changes import apply_changes
from matcher.format.errors import InputError
from matcher.format.schema import ChangeSet, Plan, Problem
from matcher.format.validate import validate_plan
from matcher.model.evaluate import coverage_units
from matcher.model.instance import Home, Instance
from matcher.model.plan import Assigned, IndexedPlan
from matcher.model.rules.skill_in_reach import Candidates
from matcher.params import Prover, SolveParams
from matcher.progress import ProgressCallback, reporter_of
from matcher.search.stages import optimise
from matcher.search.trace import Phase

MoveScope = Literal["none", "all", "candidates"]


@dataclass
class ResolveResult:
    """A re-solved plan with what happened to the plan in force."""

    plan: Plan
    """The new plan for the changed problem, with ``changed``."""
    problem: Problem
    """The changed problem."""
    status: str
    coverage: Fraction
    coverage_bound: Fraction
    kept: int
    """Assignments of the plan in force carried over unchanged."""
    freed: list[str]
    """Needs whose assignment broke (a withdrawn volunteer or slot)."""
    moved: list[str]
    """Kept assignments moved to raise coverage (``allow_moves`` only)."""
    released: int
    """Kept assignments the search was allowed to move (0 without ``allow_moves``)."""
    move_scope: MoveScope
    """Which kept assignments could move: none, all, or those of volunteers in reach of an open need."""
    pairs: int
    solve_seconds: float
    phases: list[Phase] = field(default_factory=list)


def resolve(
    problem: Problem,
    plan: Plan,
    changes: ChangeSet,
    time_limit: float | None = None,
    *,
    allow_moves: int = 0,
    params: SolveParams | None = None,
    workers: int | None = None,
    seed: int | None = None,
    log: bool | None = None,
    prover: Prover | None = None,
    on_progress: ProgressCallback | None = None,
) -> ResolveResult:
    """Re-plan the week after a change set, keeping what still holds.

    Parameters
    ----------
    problem
        The problem the plan in force was made for.
    plan
        The plan in force; it must be valid for ``problem``.
    changes
        The change set.
    time_limit
        Wall-clock seconds for the whole call; default the changed problem's
        ``time_limit_s``.
    allow_moves
        Most kept assignments that may also move when that raises coverage.
    params
        Options and tuning, as for :func:`matcher.solve.solve` (``resolve_fixed_share``:
        with ``allow_moves``, the share of the time limit for the re-solve without moves
        first).
    workers, seed, log, prover, on_progress
        As for :func:`matcher.solve.solve`.  Progress is that of the whole re-solve: the
        kept assignments count in its coverage and bound; with ``allow_moves``, the pass
        without moves reports no bound (it bounds only the plans without moves).

    Returns
    -------
    ResolveResult
        The new plan (``changed`` lists the needs whose volunteer or slots differ from
        the plan in force) and the figures behind it.

    Raises
    ------
    InputError
        When the plan in force is not valid for the problem, or the change set names
        something the problem does not have.
    """
    clock = Budget.starting_now(0.0)  # the limit counts from here, checks included
    _check_moves(allow_moves)
    check_plan_in_force(problem, plan)
    changed = apply_changes(problem, changes)
    limit = _limit(changed, time_limit)
    options = (params or SolveParams()).with_options(workers=workers, seed=seed, log=log, prover=prover)
    return _resolve(clock, changed, plan, limit, allow_moves, options, on_progress)


def resolve_changed(
    changed: Problem,
    plan: Plan,
    time_limit: float | None = None,
    *,
    allow_moves: int = 0,
    params: SolveParams | None = None,
    workers: int | None = None,
    seed: int | None = None,
    log: bool | None = None,
    prover: Prover | None = None,
    on_progress: ProgressCallback | None = None,
) -> ResolveResult:
    """:func:`resolve` for a change set already applied: keep what still holds of ``plan`` in
    ``changed`` and plan the rest.

    The caller has checked the plan in force against the problem before the changes
    (:func:`check_plan_in_force`) and applied the change set to that problem
    (:func:`matcher.format.changes.apply_changes`); this function cannot check the
    former, since it does not see that problem.

    Parameters
    ----------
    changed
        The changed problem.
    plan
        The plan in force, valid for the problem before the changes.
    time_limit, allow_moves, params, workers, seed, log, prover, on_progress
        As for :func:`resolve`; the limit counts from the start of this call.

    Returns
    -------
    ResolveResult
        As :func:`resolve` (``problem`` is ``changed`` itself).

    Raises
    ------
    InputError
        When an assignment of ``plan`` names a volunteer ``changed`` does not have (a
        change set never removes one) or a slot not in its week.
    """
    clock = Budget.starting_now(0.0)  # the limit counts from here, checks included
    _check_moves(allow_moves)
    volunteers, slots = {v.id for v in changed.volunteers}, set(changed.slot_ids)
    for i, a in enumerate(plan.assignments):
        if a.volunteer not in volunteers:
            raise InputError(f"plan: assignments[{i}].volunteer: {a.volunteer!r} is not in the problem")
        unknown = next((s for s in a.slots if s not in slots), None)
        if unknown is not None:
            raise InputError(f"plan: assignments[{i}].slots: {unknown!r} is not a slot of the week")
    limit = _limit(changed, time_limit)
    options = (params or SolveParams()).with_options(workers=workers, seed=seed, log=log, prover=prover)
    return _resolve(clock, changed, plan, limit, allow_moves, options, on_progress)


def check_plan_in_force(problem: Problem, plan: Plan) -> None:
    """Refuse a plan in force that is not valid for its problem (it is never repaired).

    Raises
    ------
    InputError
        ``plan: not valid for the problem: <the first violation> (and N more)``.
    """
    violations = validate_plan(problem, plan)
    if violations:
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        raise InputError(f"plan: not valid for the problem: {violations[0]}{more}")


def _check_moves(allow_moves: int) -> None:
    if allow_moves < 0:
        raise InputError(f"--allow-moves: must be >= 0, got {allow_moves}")


def _limit(changed: Problem, time_limit: float | None) -> float:
    """The call's time limit: ``time_limit``, default the changed problem's ``time_limit_s``."""
    limit = changed.time_limit_s if time_limit is None else time_limit
    if not limit > 0:
        raise ValueError("time_limit: must be > 0")
    return limit


def _resolve(
    clock: Budget,
    changed: Problem,
    plan: Plan,
    limit: float,
    allow_moves: int,
    params: SolveParams,
    on_progress: ProgressCallback | None,
) -> ResolveResult:
    """Steps 3 and 4 on the changed problem, within ``limit`` seconds of ``clock``'s start."""
    budget = clock.with_limit(limit)
    inst = Instance.from_problem(changed)
    progress = reporter_of(on_progress, inst.coverage, int(inst.need_value.sum()), budget.start)

    in_force, kept = still_valid(inst, plan)
    # A freed need would rather go back to its volunteer, at the slots they still have.
    homes: dict[int, Home] = {n: (v, None) for n, (v, _) in in_force.items() if n not in kept}

    scope: MoveScope = "none"
    released: set[int] = set()
    if allow_moves > 0 and kept:
        scope, released = _released(inst, kept, params.full_model_max_pairs)
    initial: IndexedPlan | None = None
    if released:
        # First the re-solve without moves, on a share of the time: its plan (zero moves)
        # starts the search with moves, which therefore never ends below it.
        first_budget = budget.until(budget.start + params.resolve_fixed_share * limit)
        if progress is not None:
            progress.offset_units, progress.bounded = coverage_units(inst, kept), False
        first = optimise(inst.with_fixed(kept, homes), first_budget, params, progress=progress)
        initial = IndexedPlan.from_assigned(inst, {n: kept[n] for n in released}).merged(first.plan)
    fixed = {n: a for n, a in kept.items() if n not in released}
    homes.update({n: (v, slots) for n, (v, slots) in kept.items() if n in released})
    residual = inst.with_fixed(fixed, homes, allow_moves if released else None)
    if progress is not None:
        progress.offset_units, progress.bounded = coverage_units(inst, fixed), True
    out = optimise(residual, budget, params, initial=initial, progress=progress)

    # The fixed assignments have no pair in the residual's numbering: the plan carries none.
    assigned = IndexedPlan.from_assigned(inst, fixed).merged(out.plan)
    covered = coverage_units(inst, assigned)
    bound = coverage_units(inst, fixed) + out.bound_units
    new = to_format(inst, assigned, max(bound, covered), budget.elapsed())
    if progress is not None:
        progress.report("done", covered, max(bound, covered), force=True)

    def differs(n: int) -> bool:
        after = (int(assigned.vol[n]), tuple(sorted(assigned.slots_of(n)))) if n in assigned else None
        return in_force.get(n) != after

    ids = [need.id for need in changed.needs]
    new = new.model_copy(update={"changed": [ids[n] for n in range(inst.n_needs) if differs(n)]})
    return ResolveResult(
        plan=new,
        problem=changed,
        status=new.status,
        coverage=inst.coverage(covered),
        coverage_bound=inst.coverage(max(bound, covered)),
        kept=sum(1 for n in kept if not differs(n)),
        freed=[ids[n] for n in in_force if n not in kept],
        moved=[ids[n] for n in sorted(released) if differs(n)],
        released=len(released),
        move_scope=scope,
        pairs=len(out.pairs),
        solve_seconds=new.solve_seconds,
        phases=out.phases,
    )


def still_valid(inst: Instance, plan: Plan) -> tuple[Assigned, Assigned]:
    """The plan in force on the changed problem, and the part of it that still holds.

    Parameters
    ----------
    inst
        The changed problem, compiled (withdrawn volunteers are still listed, with no
        free slots).
    plan
        The plan in force, valid for the problem before the changes.

    Returns
    -------
    tuple
        ``(in_force, kept)``, both need -> (volunteer, slots) on ``inst``'s indexes: every
        assignment of a need the changes did not cancel, and those whose volunteer is still
        free at all their slots.
    """
    in_force: Assigned = {}
    for a in plan.assignments:
        n = inst.need_index.get(a.need)
        if n is not None:  # a cancelled need has nothing to keep
            slots = tuple(sorted(inst.slot_index[s] for s in a.slots))
            in_force[n] = (inst.vol_index[a.volunteer], slots)
    kept = {n: (v, slots) for n, (v, slots) in in_force.items() if inst.vol_avail[v, list(slots)].all()}
    return in_force, kept


def _released(inst: Instance, kept: Assigned, max_pairs: int) -> tuple[MoveScope, set[int]]:
    """Which kept assignments ``allow_moves`` lets the search move.

    All of them when the model stays at station size (then the plan uses the fewest
    moves for the best coverage over every plan with at most ``K`` moves); otherwise
    those of volunteers in reach of an open need (a move elsewhere cannot free time for
    one); none if even that is too large for the exact model (``max_pairs`` pairs).  The size is estimated
    from skill-and-reach candidates, an upper bound on the pairs.
    """
    candidates = Candidates(inst)
    open_needs = [n for n in range(inst.n_needs) if n not in kept]
    pairs_all = sum(len(candidates(n)) for n in range(inst.n_needs))
    if pairs_all <= max_pairs:
        return "all", set(kept)
    useful: set[int] = set()
    for n in open_needs:
        useful.update(candidates(n).tolist())
    chosen = {n for n, (v, _) in kept.items() if v in useful}
    pairs_some = sum(len(candidates(n)) for n in (*open_needs, *chosen))
    if pairs_some <= max_pairs:
        return "candidates", chosen
    return "none", set()
