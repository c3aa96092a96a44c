"""情景模拟: run a scenario on the station's own week, watch its runs, read its report.

``/s/<station>/scenarios`` lists the shipped scenarios (their titles and descriptions in the
page's language), a form holding one's YAML (editable), the number of runs (a few) and the
week, and the station's recent simulations.  A post starts a simulation through
:func:`api.services.simulations.start`, the function ``POST /v1/stations/{id}/simulations``
calls (the same checks and caps); a bad scenario is shown in the page with its line, and
nothing is queued.  ``/simulations/<id>`` shows the job's progress (its panel polled by HTMX,
a cancel button) and, once done, the report: coverage against the unperturbed week, by
category and by district (bars with their values in text), the most frequent reasons needs
stay unmet, and the recruit-first advice as sentences.

The same rules as every page (:mod:`web.views`): behind login, station-scoped (another
station's simulation is 404), every post with the session's CSRF token.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field

from api.deps import MAX_ID, SessionDep, job_runner
from api.models import MAX_RUNS, Simulation, SimulationRequest, Station
from api.models.simulation import SCENARIO_TEXT_MAX
from api.services import simulations, versions
from api.services.errors import ConflictError
from matcher.format.errors import InputError
from web import labels
from web.i18n import N_, Gettext
from web.people_pages import CERTIFICATES
from web.views import CsrfForm, Page, PageError, check_csrf, elapsed_seconds, page, week_of

router = APIRouter(include_in_schema=False)

NOT_FOUND = N_("This page does not exist, or belongs to another station.")

SCENARIOS: dict[str, tuple[str, str]] = {
    "baseline": (
        N_("An ordinary week"),
        N_(
            "Each week about one volunteer in twenty is ill or away. The reference to compare "
            "the other scenarios with."
        ),
    ),
    "civility-weekend": (
        N_("A civility guidance weekend"),
        N_(
            "On Saturday and Sunday every district holds civility guidance (文明劝导) at squares, "
            "a station and crossroads, by teams of three to eight; a volunteer with a traffic "
            "safety certificate leads each crossroads team, and little volunteers may join beside "
            "adults. How many posts run beside the usual care visits, and whom should the station "
            "recruit?"
        ),
    ),
    "elderly-surge": (
        N_("More elderly people to care for"),
        N_(
            "Solitary, widowed and very old people grow by 15% and other elderly people by 5%; "
            "the flu season keeps one elder-care volunteer in ten at home. Where does elder care "
            "fall short first?"
        ),
    ),
    "march-recruitment": (
        N_("The March volunteer month"),
        N_(
            "The Lei Feng month drive recruits fifty tutors, thirty life-care volunteers and twenty "
            "retirees for emotional support; a tenth of them drift away again. How much does the "
            "drive add, and where?"
        ),
    ),
    "no-first-aid": (
        N_("First-aid training cancelled"),
        N_(
            "The first-aid retraining course is cancelled: certificates lapse in one district "
            "and a third of them elsewhere. Emergency aid needs a valid certificate. What does "
            "the station lose, and who should be trained or recruited?"
        ),
    ),
    "site-health-checks": (
        N_("Health checks at construction sites"),
        N_(
            "One or two construction sites in every district hold an evening health check for "
            "migrant workers, by two to four volunteers who all hold a valid medical care "
            "certificate; the same nurses also visit elderly people at home. How many checks take "
            "place, and how many certified volunteers should the station recruit?"
        ),
    ),
    "station-closure": (
        N_("A station closes for renovation"),
        N_(
            "The xiongguan station closes: four in ten of its volunteers move to a neighbouring "
            "station, the others pause; its beneficiaries can only be served from neighbouring "
            "districts. How much do the neighbours absorb?"
        ),
    ),
    "summer-left-behind-children": (
        N_("Summer care for left-behind children"),
        N_(
            "July: the summer programme takes in 40% more children of high priority; college "
            "students home for the holidays join as tutors and companions, and a quarter of the "
            "children's volunteers are away. Does the summer programme hold?"
        ),
    ),
    "tree-planting": (
        N_("Tree planting week"),
        N_(
            "Around Arbor Day (12 March) a park and a river bank in every district hold a tree "
            "planting post of four to ten volunteers, each led by a first-aider, on Friday or at "
            "the weekend; children may plant beside adults. The same volunteers make the usual care "
            "visits. How many posts run, and what do the care visits lose?"
        ),
    ),
    "tutor-recruitment": (
        N_("Fifty new tutors"),
        N_(
            "Fifty tutors with child-safeguarding training join the jingtie station. What do they "
            "add for children, and for the station as a whole?"
        ),
    ),
    "winter-attrition": (
        N_("Volunteers lost in winter"),
        N_(
            "January: a fifth of the volunteers drop out (Spring Festival travel, illness), and the "
            "cold dark evenings cost the rest a third of their evening times. Which programmes and "
            "districts lose most, and whom should the station recruit?"
        ),
    ),
}
"""Each shipped scenario's title and description, as message ids (a test checks every shipped
scenario has them)."""

PHASES: dict[str, str] = {
    "prepare": N_("Reading the station's week"),
    "runs": N_("Simulating the weeks"),
    "advice": N_("Trying recruitments for the advice"),
    "done": N_("Writing the report"),
}

PROFILES: dict[str, str] = {
    "worker": N_("working"),
    "retiree": N_("retired"),
    "student": N_("student"),
    "any": N_("flexible"),
}
"""The advice's availability profiles (上班族: evenings and weekends; 退休: weekday daytime …)."""

DEFAULT_SCENARIO = "winter-attrition"
DEFAULT_RUNS = 3


class SimulationForm(CsrfForm):
    """开始模拟: the scenario's YAML, the runs and the week."""

    yaml: str = Field(default="", max_length=SCENARIO_TEXT_MAX)
    runs: str = Field(default=str(DEFAULT_RUNS), max_length=8)
    week: str = Field(default="", max_length=20)


def title(name: str, _: Gettext) -> str:
    """A scenario's title in the page's language (an edited scenario's own name otherwise)."""
    return _(SCENARIOS[name][0]) if name in SCENARIOS else name


def _simulation_id(simulation_id: int) -> int:
    if not 1 <= simulation_id <= MAX_ID:
        raise PageError(404, NOT_FOUND)
    return simulation_id


def scoped(p: Page, simulation_id: int) -> tuple[Simulation, Station]:
    """A simulation of a station the caller may see, and that station; 404 otherwise."""
    row = simulations.in_scope(p.db, p.principal, _simulation_id(simulation_id))
    if row is None:
        raise PageError(404, NOT_FOUND)
    return row, p.station(row.station_id)


def _scenarios_page(
    p: Page,
    station: Station,
    text: str,
    runs: str,
    week: dt.date,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    shipped = [
        {
            "name": name,
            "title": title(name, p._),
            "description": p._(SCENARIOS[name][1]) if name in SCENARIOS else "",
        }
        for name in simulations.shipped()
    ]
    recent = [{"row": row, "title": title(row.name, p._)} for row in simulations.recent(p.db, station)]
    return p.render(
        "scenarios.html",
        station=station,
        tab="scenarios",
        week=week,
        shipped=shipped,
        text=text,
        runs=runs,
        max_runs=MAX_RUNS,
        error=error,
        recent=recent,
        status_code=status_code,
    )


@router.get("/s/{station_id}/scenarios")
def scenarios(
    request: Request,
    db: SessionDep,
    station_id: str,
    name: Annotated[str, Query(max_length=64)] = DEFAULT_SCENARIO,
    week: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """情景模拟: the shipped scenarios, the form (one's YAML, runs, week) and the recent simulations."""
    p = page(request, db)
    station = p.station(station_id)
    shipped = simulations.shipped()
    text = shipped.get(name, shipped.get(DEFAULT_SCENARIO, ""))
    return _scenarios_page(p, station, text, str(DEFAULT_RUNS), week_of(week))


@router.post("/s/{station_id}/scenarios")
def start(
    request: Request, db: SessionDep, station_id: str, form: Annotated[SimulationForm, Form()]
) -> Response:
    """Start a simulation of the form's scenario on the station's week; a bad one stays in the page (422)."""
    p = page(request, db)
    check_csrf(request, p.data, form.csrf_token)
    station = p.station(station_id)
    monday = week_of(form.week)
    try:  # the week is a Monday in range (week_of) and the text's length the form's: only runs can fail
        body = SimulationRequest(yaml=form.yaml, runs=int(form.runs.strip()), week_start=monday)
    except ValueError:  # not a number, or (a ValidationError) out of range
        error = p._("Runs: give a whole number from 1 to %(n)s.") % {"n": MAX_RUNS}
        return _scenarios_page(p, station, form.yaml, form.runs, monday, error, 422)
    try:
        row = simulations.start(db, job_runner(request), station, body, p.principal.token_id)
    except InputError as exc:
        return _scenarios_page(p, station, form.yaml, form.runs, monday, exc.message, 422)
    return RedirectResponse(f"/simulations/{row.id}", status.HTTP_303_SEE_OTHER)


def _progress(row: Simulation) -> dict[str, Any]:
    return {
        "elapsed": elapsed_seconds(row),
        "running": row.state in ("queued", "solving"),
        "report": simulations.progress_of(row),
    }


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _rows(cells: dict[str, Any], names: dict[str, str]) -> list[dict[str, Any]]:
    """Chart rows of a report's cells (by category or district): the coverage share, mean and
    p5–p95 over the runs, and the unperturbed base's; groups without demand are left out."""
    rows = []
    for key, cell in cells.items():
        pct = cell["coverage_pct"]
        if pct["mean"] is None and pct["base"] is None:
            continue
        rows.append(
            {
                "key": key,
                "label": names.get(key, key),
                "mean": pct["mean"],
                "p5": pct["p5"],
                "p95": pct["p95"],
                "base": pct["base"],
                "text": {k: _pct(pct[k]) for k in ("mean", "p5", "p95", "base")},
            }
        )
    return rows


def advice(report: dict[str, Any], districts: dict[str, str], _: Gettext) -> list[str]:
    """The recruit-first advice as sentences a coordinator reads: whom to recruit, where, and how
    much coverage they add (percentage points of the week's demand, mean of paired runs)."""
    out = []
    for item in report.get("recruit_first", []):
        values = {
            "n": item["recruits"],
            "profile": labels.label(PROFILES, item["availability"], _),
            "skill": labels.label(labels.SERVICES, item["skill"], _),
            "district": districts.get(item["district"], item["district"]),
            "points": f"{item['coverage_gain_pct_points']:.1f}",
            "certs": _(", ").join(labels.label(CERTIFICATES, c, _) for c in item["certifications"]),
        }
        if item["coverage_gain_pct_points"] <= 0:
            sentence = _(
                "Recruiting %(n)s %(profile)s volunteers for %(skill)s in %(district)s "
                "would not raise coverage."
            )
        elif item["certifications"]:
            sentence = _(
                "Recruit %(n)s %(profile)s volunteers with a valid %(certs)s certificate for %(skill)s "
                "in %(district)s: coverage rises by %(points)s percentage points on average."
            )
        else:
            sentence = _(
                "Recruit %(n)s %(profile)s volunteers for %(skill)s in %(district)s: coverage rises by "
                "%(points)s percentage points on average."
            )
        out.append(sentence % values)
    return out


def posts_view(report: dict[str, Any], _: Gettext) -> dict[str, Any] | None:
    """The group posts of a scenario with posts (文明劝导, 植树): how many ran, how many did not,
    the volunteers on them and their open places (means over the runs), and why posts did not run."""
    posts = report.get("posts")
    if not posts:
        return None
    return {
        "held": posts["posts"]["mean"],
        "run": posts["run"],
        "not_run": posts["not_run"]["mean"],
        "places_open": posts["places_open"]["mean"],
        "volunteers": posts["volunteers"]["mean"],
        "reasons": [
            {"label": labels.label(labels.REASONS, r["reason"], _), "mean": r["posts_mean"]}
            for r in posts.get("unmet_reasons", [])
        ],
    }


def report_view(row: Simulation, station: Station, p: Page) -> dict[str, Any]:
    """What the report page shows of a finished simulation's report."""
    report = row.report or {}
    _ = p._
    districts = versions.people_names(p.db, station).districts
    categories = {c: labels.label(labels.CATEGORIES, c, _) for c in labels.CATEGORIES}
    total = report["total"]
    return {
        "total": {k: _pct(total["coverage_pct"][k]) for k in ("mean", "p5", "p95", "base")},
        "unmet_hours": total["unmet_hours"],
        "volunteers": total["volunteers"],
        "by_category": _rows(report["by_category"], categories),
        "by_district": _rows(report["by_district"], districts),
        "reasons": [
            {
                "label": labels.label(labels.REASONS, r["reason"], _),
                "mean": r["needs_mean"],
                "base": r["needs_base"],
                "share": 100 * r["share"],
            }
            for r in report["unmet_reasons"]
        ],
        "advice": advice(report, districts, _),
        "posts": posts_view(report, _),
        "advice_asked": bool(row.scenario.get("advice", {}).get("candidates", 0)),
        "runs": report["runs"],
        "seconds": report.get("seconds"),
    }


@router.get("/simulations/{simulation_id}")
def simulation(request: Request, db: SessionDep, simulation_id: int) -> HTMLResponse:
    """A simulation: its progress while it runs (polled), then its report."""
    p = page(request, db)
    row, station = scoped(p, simulation_id)
    return p.render(
        "simulation.html",
        station=station,
        tab="scenarios",
        week=row.week_start,
        sim=row,
        title=title(row.name, p._),
        progress=_progress(row),
        phases=PHASES,
        view=report_view(row, station, p) if row.state == "done" and row.report else None,
    )


@router.get("/simulations/{simulation_id}/panel")
def panel(request: Request, db: SessionDep, simulation_id: int) -> Response:
    """The progress panel (HTMX); a finished simulation opens its report."""
    p = page(request, db)
    row, _station = scoped(p, simulation_id)
    if row.state == "done":
        return Response(status_code=200, headers={"HX-Redirect": f"/simulations/{row.id}"})
    return p.render("sim_panel.html", sim=row, progress=_progress(row), phases=PHASES)


@router.post("/simulations/{simulation_id}/cancel")
def cancel(
    request: Request, db: SessionDep, simulation_id: int, form: Annotated[CsrfForm, Form()]
) -> Response:
    """Cancel a queued or running simulation (its process is killed)."""
    p = page(request, db)
    check_csrf(request, p.data, form.csrf_token)
    row, _station = scoped(p, simulation_id)
    with contextlib.suppress(ConflictError):  # it finished meanwhile: the page shows how
        simulations.cancel(db, job_runner(request), row)
    return RedirectResponse(f"/simulations/{simulation_id}", status.HTTP_303_SEE_OTHER)
