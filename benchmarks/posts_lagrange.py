"""An upper bound on the natural LP with posts at city size: Lagrangian relaxation, projected subgradient.

The natural model with posts is :func:`benchmarks.posts.lp_bound`'s: per need ``n`` (with at least
``min`` eligible volunteers) a run ``r_n``, per window chosen ``y_nw``, per eligible volunteer
``x_vn`` and per volunteer at a window ``z_vnw`` (``w`` free for ``v``), per volunteer and place
``u_vp``; ``sum_w y_nw = S_n r_n``, ``z_vnw <= y_nw``, ``sum_w z_vnw = S_n x_vn``,
``min y_nw <= sum_v z_vnw <= max y_nw`` (which imply ``min r_n <= sum_v x_vn <= max r_n``), the
lead ``sum_(v lead) x_vn >= r_n``, a minor beside an adult on a group post
``x_mn <= sum_(a adult) x_an``, one session per volunteer and slot ``sum_n z_vnw <= 1``, hours
``sum_n h_n x_vn <= H_v``, places ``x_vn <= u_vp``, ``sum_p u_vp <= B_v``, all in ``[0, 1]``;
maximise ``sum c_n x_vn`` (``c_n = priority x hours x sessions``).  At 4,000 volunteers it has
about a million (volunteer, need) pairs: too large for HiGHS in minutes.

**The bound.**  Dualise the rows that couple needs or volunteers, slot (``mu_vw``), hours
(``pi_v``), place links (``sigma_vn``, or ``rho_v`` straight on ``x`` when ``v`` has one
candidate need at ``p``), beneficiaries (``rho_v``), lead (``lambda_n``) and minor (``kappa_mn``)
rows, all multipliers ``>= 0``.  What is left splits into one problem per need and one per
(volunteer, place), each solved exactly in closed form: with the profit per volunteer-session
``g_vw = (c_n - pi_v h_n - sigma_vn + lambda_n [v lead] + K_n [v adult] - kappa_vn [v minor]) /
S_n - mu_vw`` (``K_n`` the sum of the need's ``kappa``), substituting ``x = sum_w z / S`` and
``z = y t`` leaves per window the interval-constrained ``max {g.t : t in [0,1], min <= sum t <=
max}``, whose optimum is integral (an interval matrix): ``W_w``, the sum of the best ``k`` values
of ``g_.w``, ``k`` the number of positive ones clipped to ``[min, max]`` (``-inf`` when fewer than
``min`` volunteers are free); and ``max sum_w y_w W_w - lambda_n r`` over ``sum y = S r``,
``y, r in [0, 1]`` is a fractional knapsack with value ``sum over the S best windows of
max(0, W_w - lambda_n / S)`` (``x <= 1`` is implied: ``sum_w z <= sum_w y = S r``).  So

    L = sum_vw mu_vw + sum_v (pi_v H_v + rho_v B_v) + sum_n value_n
        + sum_(v,p) max(0, sum_(n at p) sigma_vn - rho_v).

**Validity.**  For a linear program ``max c.x`` over ``{A x <= b} ∩ P`` and any ``m >= 0``,
``max_(x in P) c.x + m.(b - A x)`` is at least ``c.x*`` for the LP optimum ``x*``, since ``x*`` is
in ``P`` and ``m.(b - A x*) >= 0`` (weak Lagrangian duality); here ``P`` (the rows kept, and
``[0, 1]``) is a product of the per-need and per-(volunteer, place) polytopes above, and the
closed forms are their exact maxima, so every iterate's ``L`` is an upper bound on the natural LP
optimum, hence on the integer optimum; the method only chooses multipliers (and may fix some at
0, as for rows that can never bind), and the bound reported is the least ``L`` seen.  (Strong LP
duality makes the least ``L`` over all multipliers equal to the LP optimum: the subgradient method
approaches it, slowly.)

**Measured** (``benchmarks.posts_city``, 2 cores shared): at 300 volunteers the run stops
0.9-3.8% above the exact LP (seeds 1-3, 560-640 iterations, under 10 s); at 4,000 about 0.5 s an
iteration and 560-660 iterations in 360 s, not converged (the last iterations still improving).

Eligibility is :class:`matcher.model.posts.instance.PostInstance`'s, as in :mod:`benchmarks.posts`;
nothing else of the engine is used.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher.format.schema import Problem2
from matcher.model.posts.instance import PostInstance

__all__ = ["LagrangeReport", "PostsLagrangian", "lagrangian_bound"]

STALL = 10
"""Iterations without a 0.01% better bound before the step and the target's gap shrink."""
DECAY = 0.8
"""How they shrink."""
THETA_MIN = 1e-4
"""The run stops when the step's factor falls below this."""
DEFLECT = 0.5
"""Weight of the previous direction in the next (a deflected subgradient)."""
START = 0.0
THETA = 0.5
"""The first step factor (Polyak: in (0, 2))."""
"""Fraction of the second best session value the volunteer-slots start at."""
GAP = 0.1
"""The first target: this fraction below the best bound."""

F = npt.NDArray[np.float64]
I = npt.NDArray[np.int64]  # noqa: E741
B = npt.NDArray[np.bool_]


def _cat(parts: Sequence[npt.NDArray[Any]], dtype: type[Any]) -> npt.NDArray[Any]:
    """``parts`` end to end, as ``dtype`` (empty when there are none)."""
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


def _place_groups(vol: I, places: list[str]) -> tuple[B, I, I]:
    """Per pair: its (volunteer, place) has one candidate need? its group among those with several
    (-1 if one); per such group, its volunteer."""
    place_ids = {p: i for i, p in enumerate(sorted(set(places)))}
    width = max(1, len(place_ids))
    vp = vol * width + np.array([place_ids[p] for p in places], dtype=np.int64)
    vp_ids, vp_inv, vp_count = np.unique(vp, return_inverse=True, return_counts=True)
    multi_ids = np.flatnonzero(vp_count > 1)
    remap = np.full(len(vp_ids), -1, dtype=np.int64)
    remap[multi_ids] = np.arange(len(multi_ids))
    return vp_count[vp_inv] == 1, remap[vp_inv], (vp_ids[multi_ids] // width).astype(np.int64)


def _group_starts(keys: I, groups: int) -> I:
    """Start of each group in ``keys`` (sorted): ``groups + 1`` offsets."""
    return np.searchsorted(keys, np.arange(groups + 1)).astype(np.int64)


@dataclass
class Evaluation:
    """``L`` at some multipliers and the slack of each dualised row at the subproblems' maximiser."""

    value: float
    objective: float
    """``sum c x`` at the maximiser."""
    slack: dict[str, F]


@dataclass
class PostsLagrangian:  # the arrays of one problem, built once
    """The problem's pairs, entries (pair at a window) and rows, as arrays."""

    n_needs: int
    sessions: F  # per need
    has_lead: B  # per need
    lead_pairs: B  # pairs whose volunteer holds the lead of a need with one
    q_need: I  # per need-window
    q_low: I
    q_high: I
    q_count: I
    q_start: I  # entries sorted by need-window: start offsets (len + 1)
    p_vol: I
    p_need: I
    p_value: F
    p_hours: F
    p_single: B  # the pair's (volunteer, place) has one candidate need: rho applies straight
    p_group: I  # (volunteer, place) group of the pair (multi-need groups only; -1 otherwise)
    n_groups: int
    g_vol: I  # volunteer of each multi-need group
    adult: B  # pairs of an adult on a group post
    minor: B  # pairs of a minor on a group post
    e_pair: I
    e_q: I
    e_vs: I  # volunteer-slot row of the entry
    n_vs: int
    max_hours: F  # per volunteer
    max_ben: F
    active: dict[str, B] = field(default_factory=dict)
    """Rows that can bind (the others' multipliers stay 0: valid, and exact)."""

    @classmethod
    def of(cls, problem: Problem2) -> PostsLagrangian:
        """Compile ``problem`` (eligibility by :class:`PostInstance`)."""
        inst = PostInstance.of(problem)
        slots = sorted({s for f in inst.free for s in f})
        slot_of = {s: i for i, s in enumerate(slots)}
        n_vol = len(inst.volunteers)
        free = np.zeros((n_vol, len(slots)), dtype=bool)
        for v, f in enumerate(inst.free):
            free[v, [slot_of[s] for s in f]] = True
        needs = [pn for pn in inst.needs if len(pn.eligible) >= pn.low]
        sessions: list[float] = []
        has_lead: list[bool] = []
        q_need: list[int] = []
        q_low: list[int] = []
        q_high: list[int] = []
        p_vol: list[I] = []
        p_need: list[I] = []
        p_value: list[F] = []
        p_hours: list[F] = []
        p_lead: list[B] = []
        adult: list[B] = []
        minor: list[B] = []
        places: list[str] = []
        e_pair: list[I] = []
        e_q: list[I] = []
        e_vs: list[I] = []
        n_pairs = 0
        for j, pn in enumerate(needs):
            n = pn.need
            sessions.append(float(n.sessions))
            has_lead.append(n.lead is not None)
            elig = np.array(pn.eligible, dtype=np.int64)
            wins = [slot_of[w] for w in n.windows if w in slot_of]
            q0 = len(q_need)
            q_need.extend([j] * len(wins))
            q_low.extend([pn.low] * len(wins))
            q_high.extend([pn.high] * len(wins))
            at = free[np.ix_(elig, np.array(wins, dtype=np.int64))]
            rows, cols = np.nonzero(at)
            e_pair.append(n_pairs + rows)
            e_q.append(q0 + cols)
            e_vs.append(elig[rows] * len(slots) + np.array(wins, dtype=np.int64)[cols])
            p_vol.append(elig)
            p_need.append(np.full(len(elig), j))
            p_value.append(np.full(len(elig), pn.unit_value / inst.scale))
            p_hours.append(np.full(len(elig), pn.unit_hours / inst.scale))
            p_lead.append(np.array([v in pn.leads for v in pn.eligible]) & (n.lead is not None))
            is_minor = np.array([inst.volunteers[v].minor for v in pn.eligible])
            adult.append(~is_minor & pn.group)
            minor.append(is_minor & pn.group)
            places.extend([pn.place] * len(elig))
            n_pairs += len(elig)
        pv, pn_ = _cat(p_vol, np.int64), _cat(p_need, np.int64)
        eq, ep, evs_raw = _cat(e_q, np.int64), _cat(e_pair, np.int64), _cat(e_vs, np.int64)
        order = np.argsort(eq, kind="stable")
        eq, ep, evs_raw = eq[order], ep[order], evs_raw[order]
        vs_ids, evs = np.unique(evs_raw, return_inverse=True)
        single, p_group, g_vol = _place_groups(pv, places)
        lag = cls(
            n_needs=len(needs),
            sessions=np.array(sessions, dtype=float),
            has_lead=np.array(has_lead, dtype=bool),
            lead_pairs=_cat(p_lead, np.bool_),
            q_need=np.array(q_need, dtype=np.int64),
            q_low=np.array(q_low, dtype=np.int64),
            q_high=np.array(q_high, dtype=np.int64),
            q_count=np.bincount(eq, minlength=len(q_need)).astype(np.int64),
            q_start=_group_starts(eq, len(q_need)),
            p_vol=pv,
            p_need=pn_,
            p_value=_cat(p_value, np.float64),
            p_hours=_cat(p_hours, np.float64),
            p_single=single,
            p_group=p_group,
            n_groups=len(g_vol),
            g_vol=g_vol,
            adult=_cat(adult, np.bool_),
            minor=_cat(minor, np.bool_),
            e_pair=ep,
            e_q=eq,
            e_vs=evs.astype(np.int64),
            n_vs=len(vs_ids),
            max_hours=np.array([h / inst.scale for h in inst.max_hours], dtype=float),
            max_ben=np.array([float(v.max_beneficiaries) for v in inst.volunteers]),
        )
        lag.active = lag.binding_rows()
        return lag

    def binding_rows(self) -> dict[str, B]:
        """The dualised rows that can bind (the others' multipliers stay 0: valid, and exact)."""
        n_vol = len(self.max_hours)
        # Rows that can never bind: one entry per volunteer slot, candidate hours within H_v, candidate
        # places within B_v.
        places_of = np.bincount(self.p_vol[self.p_single], minlength=n_vol) + np.bincount(
            self.g_vol, minlength=n_vol
        )
        active = {
            "mu": np.bincount(self.e_vs, minlength=self.n_vs) > 1,
            "pi": np.bincount(self.p_vol, weights=self.p_hours, minlength=n_vol) > self.max_hours + 1e-9,
            "rho": places_of > self.max_ben,
            "lam": self.has_lead.copy(),
            "kappa": self.minor.copy(),
        }
        active["sigma"] = (self.p_group >= 0) & active["rho"][self.p_vol]
        return active

    def zeros(self) -> dict[str, F]:
        """Multipliers all 0."""
        n_vol = len(self.max_hours)
        return {
            "mu": np.zeros(self.n_vs),
            "pi": np.zeros(n_vol),
            "rho": np.zeros(n_vol),
            "sigma": np.zeros(len(self.p_vol)),
            "lam": np.zeros(self.n_needs),
            "kappa": np.zeros(len(self.p_vol)),
        }

    def evaluate(self, m: dict[str, F]) -> Evaluation:
        """``L(m)`` and the rows' slacks at a maximiser of the relaxed problem (module docstring)."""
        mu, pi, rho = m["mu"], m["pi"], m["rho"]
        # multipliers of rows that do not exist count as 0
        sigma = np.where(self.p_group >= 0, m["sigma"], 0.0)
        lam = np.where(self.has_lead, m["lam"], 0.0)
        kappa = np.where(self.minor, m["kappa"], 0.0)
        s_n = self.sessions
        k_need = np.bincount(self.p_need, weights=kappa, minlength=self.n_needs)
        a = (
            self.p_value
            - pi[self.p_vol] * self.p_hours
            - np.where(self.p_single, rho[self.p_vol], sigma)
            + np.where(self.lead_pairs, lam[self.p_need], 0.0)
            + np.where(self.adult, k_need[self.p_need], 0.0)
            - np.where(self.minor, kappa, 0.0)
        )
        g = a[self.e_pair] / s_n[self.p_need[self.e_pair]] - mu[self.e_vs]
        order = np.lexsort((-g, self.e_q))  # e_q is sorted: blocks stay in place
        gs = g[order]
        start = self.q_start[:-1]
        rank = np.arange(len(gs)) - start[self.e_q]
        npos = np.bincount(self.e_q, weights=gs > 0, minlength=len(self.q_need)).astype(np.int64)
        feasible = self.q_count >= self.q_low
        k = np.clip(npos, self.q_low, np.minimum(self.q_high, self.q_count))
        csum = np.concatenate([[0.0], np.cumsum(gs)])
        w_val = np.where(feasible, csum[start + np.where(feasible, k, 0)] - csum[start], -np.inf)
        # per need: the S best windows, each worth max(0, W - lambda/S)
        shifted = w_val - lam[self.q_need] / s_n[self.q_need]
        q_order = np.lexsort((-shifted, self.q_need))
        q_starts = _group_starts(self.q_need, self.n_needs)
        q_rank = np.empty(len(q_order), dtype=np.int64)
        q_rank[q_order] = np.arange(len(q_order)) - q_starts[self.q_need[q_order]]
        chosen = (q_rank < s_n[self.q_need]) & (shifted > 0)
        need_value = np.bincount(self.q_need, weights=np.where(chosen, shifted, 0.0), minlength=self.n_needs)
        run = np.bincount(self.q_need, weights=chosen, minlength=self.n_needs) / np.maximum(s_n, 1)
        # the maximiser
        on = chosen[self.e_q] & (rank < k[self.e_q])
        z_pair = self.e_pair[order[on]]
        z_vs = self.e_vs[order[on]]
        x = np.bincount(z_pair, minlength=len(self.p_vol)) / s_n[self.p_need]
        group_gain = (
            np.bincount(
                self.p_group[self.p_group >= 0], weights=sigma[self.p_group >= 0], minlength=self.n_groups
            )
            - rho[self.g_vol]
        )
        u = group_gain > 0
        u_pair = u[np.maximum(self.p_group, 0)] if self.n_groups else np.zeros(len(self.p_vol), dtype=bool)
        n_vol = len(self.max_hours)
        value = (
            float(mu.sum())
            + float(pi @ self.max_hours)
            + float(rho @ self.max_ben)
            + float(need_value.sum())
            + float(np.maximum(group_gain, 0.0).sum())
        )
        adults_x = np.bincount(self.p_need, weights=np.where(self.adult, x, 0.0), minlength=self.n_needs)
        slack: dict[str, F] = {
            "mu": 1.0 - np.bincount(z_vs, minlength=self.n_vs).astype(np.float64),
            "pi": self.max_hours - np.bincount(self.p_vol, weights=self.p_hours * x, minlength=n_vol),
            "rho": self.max_ben
            - np.bincount(self.p_vol, weights=np.where(self.p_single, x, 0.0), minlength=n_vol)
            - np.bincount(self.g_vol, weights=u, minlength=n_vol),
            "sigma": np.where(self.p_group >= 0, u_pair - x, 0.0),
            "lam": np.bincount(self.p_need, weights=np.where(self.lead_pairs, x, 0.0), minlength=self.n_needs)
            - run,
            "kappa": np.where(self.minor, adults_x[self.p_need] - x, 0.0),
        }
        slack["lam"] = np.where(self.has_lead, slack["lam"], 0.0)
        return Evaluation(value, float(self.p_value @ x), slack)


@dataclass
class LagrangeReport:
    """The best bound found and how it was found."""

    bound: float
    iterations: int
    seconds: float
    build_seconds: float
    history: list[float]

    def summary(self) -> str:
        """One line."""
        return (
            f"Lagrangian bound {self.bound:.1f} after {self.iterations} iterations "
            f"({self.build_seconds:.1f} s to build, {self.seconds:.1f} s in all)"
        )


def lagrangian_bound(
    problem: Problem2,
    iterations: int = 300,
    time_limit: float = 300.0,
    drop: tuple[str, ...] = (),
) -> LagrangeReport:
    """The least ``L`` over a projected subgradient run (Polyak steps towards a target below the best ``L``).

    ``drop`` fixes the named multipliers at 0 (still a valid bound, looser: for tests).
    """
    started = time.monotonic()
    lag = PostsLagrangian.of(problem)
    built = time.monotonic() - started
    m = lag.zeros()  # (pricing each volunteer-slot at its second best session started far higher)
    best = np.inf
    history: list[float] = []
    theta, gap, stall = THETA, GAP, 0
    # Rows in their own units: hours and beneficiaries rows divided by their right-hand side.
    scale = {name: np.ones_like(x) for name, x in m.items()}
    scale["pi"] = 1.0 / np.maximum(lag.max_hours, 1e-9)
    scale["rho"] = 1.0 / np.maximum(lag.max_ben, 1.0)
    previous: dict[str, F] = {}
    it = 0
    for it in range(1, iterations + 1):  # noqa: B007
        ev = lag.evaluate(m)
        history.append(ev.value)
        improved = not np.isfinite(best) or ev.value < best - 1e-4 * abs(best)
        best = min(best, ev.value)
        stall = 0 if improved else stall + 1
        if stall >= STALL:
            theta, gap, stall = theta * DECAY, gap * DECAY, 0
        if time.monotonic() - started > time_limit or theta < THETA_MIN:
            break
        target = best * (1 - gap)
        steps: dict[str, F] = {}
        norm = 0.0
        for name, s in ev.slack.items():
            if name in drop:
                continue
            # descent direction on the (scaled) multiplier: minus the (scaled) slack, deflected
            d = np.where(lag.active[name], -s * scale[name], 0.0)
            if name in previous:
                d = d + DEFLECT * previous[name]
            d = np.where((m[name] <= 0) & (d < 0), 0.0, d)  # projected
            steps[name] = d
            norm += float(d @ d)
        if norm <= 1e-12:
            break  # the maximiser is feasible and complementary: L is the LP optimum
        t = theta * (ev.value - target) / norm
        for name, d in steps.items():
            m[name] = np.maximum(0.0, m[name] + t * d * scale[name])
        previous = steps
    return LagrangeReport(float(best), it, time.monotonic() - started, built, history)
