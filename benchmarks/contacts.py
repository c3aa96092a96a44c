"""The cost of masking contact details in lists (issue 19): the same rows with and without the mask.

Run ``python -m benchmarks.contacts`` from the repository root (about a minute).  In a temporary
directory it seeds an SQLite database with a demo city of 4,000 volunteers and 3,000
beneficiaries in 4 districts (every volunteer with a phone, one in three with a WeChat id, every
beneficiary with an address, contact person and phone) and reads one station's rows once.  Then,
``--repeat`` times each, alternating, it builds and serialises to JSON what the list routes
answer (``api.services.people.volunteer_list_item`` / ``beneficiary_list_item``: the models that
mask) and the same rows as the person's own record is answered (``VolunteerPublic`` /
``BeneficiaryPublic``: not masked), and times the whole route ``GET /v1/stations/{id}/volunteers``
with a station's token as the reference.

It prints the medians and their ratio, and writes ``benchmarks/results/contacts-<date>.json``
(:func:`benchmarks.results.write_result`).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from sqlmodel import Session

from api.auth import create_token
from api.crud.beneficiaries import read_beneficiaries
from api.crud.volunteers import read_volunteers
from api.main import create_app
from api.models import BeneficiaryListItem, BeneficiaryPublic, VolunteerListItem, VolunteerPublic
from api.services import people
from benchmarks.results import Table, command_line, write_result
from benchmarks.service_setup import demo_database, repeat_option, seed_city


def main(argv: list[str] | None = None) -> None:
    """Measure and print the table."""
    repeat = repeat_option(__doc__, argv, 15)
    with demo_database() as engine:
        with Session(engine) as session:
            station = seed_city(session, 4000, 3000)[0]
            token = create_token(session, station, "bench")
            vols = list(read_volunteers(session, station, active_only=True).values())
            bens = list(read_beneficiaries(session, station, active_only=True).values())
        masked_v, plain_v = TypeAdapter(list[VolunteerListItem]), TypeAdapter(list[VolunteerPublic])
        masked_b, plain_b = TypeAdapter(list[BeneficiaryListItem]), TypeAdapter(list[BeneficiaryPublic])
        pairs: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
            f"volunteers ({len(vols)})": (
                lambda: masked_v.dump_json([people.volunteer_list_item(v, c) for v, c in vols]),
                lambda: plain_v.dump_json([people.volunteer_public(v, c) for v, c in vols]),
            ),
            f"beneficiaries ({len(bens)})": (
                lambda: masked_b.dump_json([people.beneficiary_list_item(b, n) for b, n in bens]),
                lambda: plain_b.dump_json([people.beneficiary_public(b, n) for b, n in bens]),
            ),
        }
        times: dict[tuple[str, bool], list[float]] = {(n, m): [] for n in pairs for m in (True, False)}
        for name, (masked, plain) in pairs.items():
            masked(), plain()  # warm
            for _ in range(repeat):
                for on, fn in ((True, masked), (False, plain)):
                    started = time.perf_counter()
                    fn()
                    times[(name, on)].append(time.perf_counter() - started)
        route: list[float] = []
        with TestClient(create_app(engine, workers=False)) as client:
            headers = {"Authorization": f"Bearer {token}"}
            path = f"/v1/stations/{station}/volunteers"
            assert client.get(path, headers=headers).status_code == 200
            for _ in range(repeat):
                started = time.perf_counter()
                assert client.get(path, headers=headers).status_code == 200
                route.append(time.perf_counter() - started)
    rows: list[list[str | float]] = []
    for name in pairs:
        with_mask, without = statistics.median(times[(name, True)]), statistics.median(times[(name, False)])
        rows.append(
            [name, round(with_mask * 1000, 2), round(without * 1000, 2), round(with_mask / without, 2)]
        )
    rows.append([f"GET …/volunteers ({len(vols)})", round(statistics.median(route) * 1000, 2), "", ""])
    columns = ["rows", "masked ms (median)", "not masked ms (median)", "ratio"]
    print(f"{'rows':28} {'masked ms':>10} {'not masked ms':>14} {'ratio':>6}")
    for row in rows:
        print(f"{row[0]!s:28} {row[1]!s:>10} {row[2]!s:>14} {row[3]!s:>6}")
    notes = [
        f"{repeat} runs of each, masked and not masked alternately in the same process;",
        "each run builds the models from the rows read once and serialises them to JSON;",
        "the GET row is the whole list route (read, mask, serialise) for reference.",
    ]
    write_result("contacts", command_line("benchmarks.contacts", argv), [Table(columns, rows)], notes)


if __name__ == "__main__":
    main()
