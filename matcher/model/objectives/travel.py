"""Level 3, first term: travel, in tenths of a kilometre per session.

Distances are great-circle between the volunteer's and the beneficiary's ``location``.
Where either is missing, a volunteer of the beneficiary's own district travels 0 and one
from a neighbouring district a nominal :data:`NEIGHBOUR_KM`, so district-only data still
prefers local volunteers.
"""

from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from matcher.model.instance import FloatArray, Instance, IntArray
from matcher.model.pairs import Pairs
from matcher.model.variables import Vars

NEIGHBOUR_KM = 3.0
EARTH_RADIUS_KM = 6371.0


def pair_km(inst: Instance, pairs: Pairs) -> FloatArray:
    """Travel distance of one trip for every pair, in km."""
    return trip_km(inst, pairs.vol, pairs.need)


def trip_km(inst: Instance, vol: IntArray, need: IntArray) -> FloatArray:
    """Travel distance of one trip from volunteer ``vol[i]`` to the beneficiary of need ``need[i]``, in km.

    Also what ranks a plan's stand-ins (:mod:`matcher.standins`), so that a stand-in's
    travel is measured as the objective measures it.
    """
    bens = inst.need_ben[need]
    a = np.radians(inst.vol_loc[vol])
    b = np.radians(inst.ben_loc[bens])
    dlat = b[:, 0] - a[:, 0]
    dlon = b[:, 1] - a[:, 1]
    h = np.sin(dlat / 2) ** 2 + np.cos(a[:, 0]) * np.cos(b[:, 0]) * np.sin(dlon / 2) ** 2
    km: FloatArray = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    nominal = np.where(inst.vol_district[vol] == inst.ben_district[bens], 0.0, NEIGHBOUR_KM)
    out: FloatArray = np.where(np.isnan(km), nominal, km)
    return out


def expr(v: Vars) -> cp_model.LinearExpr:
    """Tenths of a km travelled over the week (one trip per session)."""
    km = pair_km(v.inst, v.pairs)
    sessions = v.inst.need_sessions[v.pairs.need]
    cost = np.rint(km * 10 * sessions).astype(np.int64).tolist()
    return cp_model.LinearExpr.weighted_sum(v.x, cost)
