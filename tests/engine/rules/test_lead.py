"""Rule 11 (lead): a post with a lead runs only with a volunteer on it holding all of it."""

from __future__ import annotations

from posts_support import allows, post, problem2, solve_checked, teams, unmet, vol

from matcher.format import reasons as codes

AID = [{"kind": "first_aid", "expires": "2027-06-30"}]


def test_lead_alone() -> None:
    problem = problem2(
        [vol("v1", certifications=AID), vol("v2"), vol("v3")],
        [post(low=2, high=3, lead={"certifications": ["first_aid"]})],
    )
    assert allows(problem, ["lead"], {"n1": (["v1", "v2"], ["sat-am"])})
    assert not allows(problem, ["lead"], {"n1": (["v2", "v3"], ["sat-am"])})


def test_lead_of_a_skill_and_a_certificate_is_one_volunteer() -> None:
    """v1 has the certificate, v2 the skill: neither holds the whole lead."""
    problem = problem2(
        [vol("v1", certifications=AID), vol("v2", skills=["civility_guidance", "health_check"])],
        [post(low=2, high=2, lead={"certifications": ["first_aid"], "skills": ["health_check"]})],
    )
    assert unmet(solve_checked(problem)) == {"n1": [codes.NO_LEAD_VOLUNTEER]}


def test_expired_certificate_is_no_lead() -> None:
    late = [{"kind": "first_aid", "expires": "2026-12-12"}]  # before the week's Sunday
    problem = problem2(
        [vol("v1", certifications=late), vol("v2")],
        [post(low=1, high=2, lead={"certifications": ["first_aid"]})],
    )
    assert unmet(solve_checked(problem)) == {"n1": [codes.NO_LEAD_VOLUNTEER]}
    problem = problem2(
        [vol("v1", certifications=AID), vol("v2")],
        [post(low=1, high=2, lead={"certifications": ["first_aid"]})],
    )
    assert teams(solve_checked(problem))["n1"][0] == ["v1", "v2"]
