"""A finished week with group posts (多人岗位), for the grid's and unmet page's tests and screenshots.

Built from a generated (format-1) plan version, copied to another week so the generated week's
pages stay as they are: the copy's problem gains a site with a post of three volunteers (of at
most five, at least two) and a site whose post did not run; the post is stored as one
``PlanAssignment`` row per member (same need id, same slots), as the plan's rows keep posts.
``shape`` is how the plan document lists the post: format 2's one assignment with ``volunteers``,
or one assignment per member.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.models import PlanAssignment, PlanUnmet, PlanVersion, Volunteer

SQUARE = {"id": "s-square", "name": "雄关广场"}
RIVER = {"id": "s-river", "name": "讨赖河河堤"}
POST = "n-square-sat"
UNRUN = "n-river-patrol"


@dataclass
class PostWeek:
    """The copied version, its week, and the post's members (id, name) in plan order."""

    plan_id: int
    week: dt.date
    members: list[tuple[str, str]]


def post_week(engine: Engine, plan_id: int, weeks_later: int = 2, shape: str = "volunteers") -> PostWeek:
    """Copy finished version ``plan_id`` ``weeks_later`` weeks on, with a three-member post and a
    post that did not run (too few volunteers together); returns the copy."""
    with Session(engine) as db:
        old = db.get(PlanVersion, plan_id)
        assert old is not None and old.plan is not None and old.station_id is not None
        problem, plan = copy.deepcopy(old.problem), copy.deepcopy(old.plan)
        district = problem["volunteers"][0]["district"]
        ids = sorted(v["id"] for v in problem["volunteers"])[:3]
        names = {v.id: v.name or v.id for v in db.exec(select(Volunteer).where(col(Volunteer.id).in_(ids)))}
        problem["format"] = 2
        problem["sites"] = [{**SQUARE, "district": district}, {**RIVER, "district": district}]
        post = {"service": "companionship", "hours": 2, "sessions": 1, "windows": ["sat-am"]}
        problem["needs"] += [
            {**post, "id": POST, "site": SQUARE["id"], "priority": 4, "volunteers": {"min": 2, "max": 5}},
            {**post, "id": UNRUN, "site": RIVER["id"], "priority": 3, "volunteers": {"min": 4, "max": 6}},
        ]
        if shape == "volunteers":
            plan["assignments"].append(
                {"need": POST, "volunteers": ids, "slots": ["sat-am"], "places_open": 2}
            )
        else:
            plan["assignments"] += [{"need": POST, "volunteer": v, "slots": ["sat-am"]} for v in ids]
        plan["unmet"].append({"need": UNRUN, "reasons": ["too_few_volunteers_together"]})
        week = old.week_start + dt.timedelta(days=7 * weeks_later)
        problem["week_start"] = week.isoformat()
        new = PlanVersion(
            station_id=old.station_id,
            token_id=old.token_id,
            week_start=week,
            version=1,
            state="done",
            problem=problem,
            plan=plan,
            finished_at=old.finished_at,
        )
        db.add(new)
        db.flush()
        assert new.id is not None
        for row in db.exec(select(PlanAssignment).where(PlanAssignment.plan_id == plan_id)):
            db.add(
                PlanAssignment(
                    plan_id=new.id, need_id=row.need_id, volunteer_id=row.volunteer_id, slots=row.slots
                )
            )
        for unmet in db.exec(select(PlanUnmet).where(PlanUnmet.plan_id == plan_id)):
            db.add(PlanUnmet(plan_id=new.id, need_id=unmet.need_id, reasons=unmet.reasons))
        for v in ids:  # a post is one row per member: same need, same slots
            db.add(PlanAssignment(plan_id=new.id, need_id=POST, volunteer_id=v, slots=["sat-am"]))
        db.add(PlanUnmet(plan_id=new.id, need_id=UNRUN, reasons=["too_few_volunteers_together"]))
        db.commit()
        return PostWeek(new.id, week, [(v, names.get(v, v)) for v in ids])
