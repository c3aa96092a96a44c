"""A demo city in the database: one station per district of a generated city."""

from __future__ import annotations

import random

from sqlmodel import Session, select

from api.models import (
    Beneficiary,
    Centre,
    Certificate,
    District,
    Need,
    Site,
    Station,
    Team,
    Volunteer,
    VolunteerGroup,
)
from matcher.synth.generate import generate_city

TEAMS = ("敬老 elderly care", "爱幼 children", "助残 disabled", "农民工 migrant workers")

# Demo contact details: fake and deterministic (from the record's number, not the random
# generator, so the rest of the demo city is as before).  The numbers are in 199-0000-xxxx
# (volunteers) and 198-0000-xxxx (contact persons), made up for the demo.
COMMUNITIES = ("幸福里", "和平苑", "雄关小区", "长城花园", "迎宾东路", "建设新村")
RELATIONS = ("儿子", "女儿", "老伴", "邻居", "侄子", "孙女")
SURNAMES = "王李张刘陈杨赵黄周吴"
GIVEN = ("强", "芳", "伟", "敏", "军", "丽", "洋", "静")


def demo_phone(prefix: str, number: int) -> str:
    """A made-up mobile number ``PREFIX 0000 NNNN`` (11 digits)."""
    return f"{prefix}0000{number % 10000:04d}"


def demo_address(number: int) -> str:
    """A made-up address such as 幸福里 3 幢 2 单元 301."""
    community = COMMUNITIES[number % len(COMMUNITIES)]
    return f"{community} {number % 12 + 1} 幢 {number % 3 + 1} 单元 {number % 6 + 1}0{number % 4 + 1}"


def demo_contact(number: int) -> str:
    """A made-up contact person such as 儿子 王强."""
    relation = RELATIONS[number % len(RELATIONS)]
    return f"{relation} {SURNAMES[number % len(SURNAMES)]}{GIVEN[number % len(GIVEN)]}"


def seed_demo(
    session: Session,
    volunteers: int = 250,
    beneficiaries: int = 190,
    districts: int = 4,
    seed: int = 7,
    posts: bool = False,
) -> list[str]:
    """Fill an empty database with a generated city; returns the station ids.

    Each district gets a station with one team per programme and two groups per team;
    a volunteer joins their district's station, a random team and group; minors mostly
    have their guardian's consent recorded (one in five has not, and is never scheduled).
    With ``posts`` the last station by id also gets the demo's sites and group posts
    (:func:`add_demo_posts`); the others, and everything else, are the same either way.

    Raises
    ------
    ValueError
        If the database already holds a centre.
    """
    if session.exec(select(Centre)).first() is not None:
        raise ValueError("the database already holds a volunteer centre: seed only an empty one")
    city = generate_city(volunteers, beneficiaries, districts, seed=seed)
    rng = random.Random(seed)
    session.add(Centre(id="jiayuguan", name="嘉峪关市志愿服务中心"))
    for d in city.districts:
        session.add(District(id=d.id, name=d.id, neighbors=list(d.neighbors)))
    session.flush()
    groups: dict[str, list[tuple[str, str]]] = {}
    for d in city.districts:
        station = f"st-{d.id}"
        session.add(Station(id=station, centre_id="jiayuguan", name=f"{d.id} 志愿服务站", district=d.id))
        session.flush()
        for t, team_name in enumerate(TEAMS):
            team = f"{station}-t{t + 1}"
            session.add(Team(id=team, station_id=station, name=team_name))
            session.flush()
            for g in (1, 2):
                group = f"{team}-g{g}"
                session.add(VolunteerGroup(id=group, team_id=team, name=f"{team_name} {g}"))
                groups.setdefault(station, []).append((team, group))
    session.flush()
    for i, v in enumerate(city.volunteers):
        station = f"st-{v.district}"
        team, group = rng.choice(groups[station])
        session.add(
            Volunteer(
                id=v.id,
                station_id=station,
                team_id=team,
                group_id=group,
                name=f"志愿者 {v.id}",
                district=v.district,
                skills=list(v.skills),
                availability=list(v.availability),
                max_hours=v.max_hours,
                max_beneficiaries=v.max_beneficiaries,
                minor=v.minor,
                guardian_consent=v.minor and rng.random() < 0.8,
                gender=v.gender,
                latitude=None if v.location is None else v.location[0],
                longitude=None if v.location is None else v.location[1],
                hours_before=float(rng.choice((0, 0, 20, 80, 150, 400))),
                phone=demo_phone("199", i + 1),
                wechat=f"linli_demo_{i + 1:04d}" if i % 3 == 0 else None,
            )
        )
    session.flush()
    for v in city.volunteers:
        for c in v.certifications:
            session.add(Certificate(volunteer_id=v.id, kind=c.kind, expires=c.expires))
    for i, b in enumerate(city.beneficiaries):
        session.add(
            Beneficiary(
                id=b.id,
                station_id=f"st-{b.district}",
                name=f"服务对象 {b.id}",
                category=b.category,
                district=b.district,
                priority=b.priority,
                volunteer_gender=b.volunteer_gender,
                excluded_volunteers=list(b.excluded_volunteers),
                latitude=None if b.location is None else b.location[0],
                longitude=None if b.location is None else b.location[1],
                address=demo_address(i + 1),
                contact_name=demo_contact(i),
                contact_phone=demo_phone("198", i + 1),
            )
        )
    session.flush()
    for n in city.needs:
        session.add(
            Need(
                id=n.id,
                beneficiary_id=n.beneficiary,
                service=n.service,
                hours=n.hours,
                sessions=n.sessions,
                windows=list(n.windows),
                requires=list(n.requires),
                minor_ok=n.minor_ok,
            )
        )
    stations = [f"st-{d.id}" for d in city.districts]
    if posts:
        session.flush()
        add_demo_posts(session, max(stations))  # the last by id: pages open on the first
    session.commit()
    return stations


DEMO_SITES = (
    ("s-square", "人民广场", "人民广场东门"),
    ("s-river", "讨赖河东岸", "讨赖河东岸步道入口"),
    ("s-worksite", "建设路工地", "建设路 18 号工地门口"),
)
"""The demo's sites (服务地点): id, name, where volunteers gather."""

DemoPost = tuple[str, str, str, float, int, list[str], int, int, int, list[str]]

DEMO_POSTS: tuple[DemoPost, ...] = (
    # id, site, service, hours, sessions, windows, priority, min, max, lead certifications
    ("p-civility", "s-square", "civility_guidance", 3.0, 1, ["sat-am", "sun-am"], 4, 3, 6, []),
    (
        "p-river",
        "s-river",
        "environment",
        2.0,
        1,
        ["sat-am", "sat-pm", "sun-am", "sun-pm"],
        3,
        2,
        4,
        ["first_aid"],
    ),
    (
        "p-clinic",
        "s-worksite",
        "health_check",
        2.0,
        1,
        ["wed-eve", "sat-pm", "sun-pm"],
        5,
        2,
        3,
        ["health_care"],
    ),
)
"""The demo's group posts (多人岗位): 文明劝导 at 人民广场 on weekend mornings (3-6 volunteers), a river
patrol (河道巡护, 2-4, one with a first-aid certificate) and a health check at a construction site
for migrant workers (农民工工地义诊, 2-3, one with a health-care certificate)."""


def add_demo_posts(session: Session, station_id: str) -> None:
    """The demo's sites and posts (:data:`DEMO_SITES`, :data:`DEMO_POSTS`) at a station, in its district.

    Demo volunteers of the station who hold a post's lead certificate or live nearby are given the
    post's service as a skill where too few have it (the generated city draws skills from the
    beneficiaries' programmes, and few volunteers do community service), so the posts can run.
    """
    station = session.get(Station, station_id)
    assert station is not None
    for site_id, name, address in DEMO_SITES:
        session.add(
            Site(id=site_id, station_id=station_id, name=name, district=station.district, address=address)
        )
    session.flush()
    people = list(
        session.exec(select(Volunteer).where(Volunteer.station_id == station_id).order_by(Volunteer.id))
    )
    held: dict[str, set[str]] = {}
    for c in session.exec(select(Certificate)):
        held.setdefault(c.volunteer_id, set()).add(c.kind)
    for need_id, site, service, hours, sessions, windows, priority, low, high, lead in DEMO_POSTS:
        session.add(
            Need(
                id=need_id,
                site_id=site,
                service=service,
                hours=hours,
                sessions=sessions,
                windows=list(windows),
                priority=priority,
                volunteers_min=low,
                volunteers_max=high,
                lead_certifications=list(lead),
            )
        )
        # Enough adults free together at one of the post's times with its service (leads first).
        adults = [v for v in people if not v.minor and v.active]
        best = max(windows, key=lambda w: (sum(w in v.availability for v in adults), -windows.index(w)))
        free = [v for v in adults if best in v.availability]
        free.sort(key=lambda v: (not set(lead) <= held.get(v.id, set()), v.id))
        for v in free[: high + 2]:
            if service not in v.skills:
                v.skills = [*v.skills, service]
                session.add(v)
