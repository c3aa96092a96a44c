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
    session: Session, volunteers: int = 250, beneficiaries: int = 190, districts: int = 4, seed: int = 7
) -> list[str]:
    """Fill an empty database with a generated city; returns the station ids.

    Each district gets a station with one team per programme and two groups per team;
    a volunteer joins their district's station, a random team and group; minors mostly
    have their guardian's consent recorded (one in five has not, and is never scheduled).

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
    session.commit()
    return [f"st-{d.id}" for d in city.districts]
