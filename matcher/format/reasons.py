"""Stable reason codes for unmet needs.

Each code names the first hard rule that rules a candidate volunteer out; an unmet need
carries the codes of all its candidates (in this order), or ``capacity_taken`` when
candidates could take it but their time, hours or places went to other needs.  These
strings are part of the public contract: never rename one.
"""

from __future__ import annotations

NO_VOLUNTEER_WITH_SKILL_IN_REACH = "no_volunteer_with_skill_in_reach"
"""No volunteer within reach (rule 7) has the need's service (rule 2)."""
NO_CERTIFIED_VOLUNTEER = "no_certified_volunteer"
"""Skilled volunteers in reach exist, but lack a required certification valid for the week."""
MINOR_NOT_ALLOWED = "minor_not_allowed"
"""The candidate is a minor and the need is not ``minor_ok`` (rule 8)."""
GENDER_MISMATCH = "gender_mismatch"
"""The beneficiary asks for a volunteer of the other gender, or of a stated one (rule 9)."""
VOLUNTEER_EXCLUDED = "volunteer_excluded"
"""The beneficiary excluded the candidate (rule 9)."""
NO_AVAILABLE_SLOT = "no_available_slot"
"""The candidate is free in fewer of the need's windows than it has sessions (rules 1, 3)."""
EXCEEDS_MAX_HOURS = "exceeds_max_hours"
"""``hours x sessions`` is more than the candidate's ``max_hours`` (rule 5)."""
NO_BENEFICIARY_CAPACITY = "no_beneficiary_capacity"
"""The candidate's ``max_beneficiaries`` is 0 (rule 6)."""
CAPACITY_TAKEN = "capacity_taken"
"""Candidates existed, but their slots, hours or beneficiary places went to other needs."""

#: All codes, in the order a need's reasons are listed.
REASON_CODES: tuple[str, ...] = (
    NO_VOLUNTEER_WITH_SKILL_IN_REACH,
    NO_CERTIFIED_VOLUNTEER,
    MINOR_NOT_ALLOWED,
    GENDER_MISMATCH,
    VOLUNTEER_EXCLUDED,
    NO_AVAILABLE_SLOT,
    EXCEEDS_MAX_HOURS,
    NO_BENEFICIARY_CAPACITY,
    CAPACITY_TAKEN,
)

# ---------------------------------------------------------------------- format 2

TOO_FEW_VOLUNTEERS_TOGETHER = "too_few_volunteers_together"
"""A post: fewer than its ``volunteers.min`` eligible volunteers are free together at any
``sessions`` of its windows (each volunteer on a post serves all its sessions)."""
NO_LEAD_VOLUNTEER = "no_lead_volunteer"
"""A post with a ``lead``: no eligible volunteer holds all of it."""
NO_ADULT_ALONGSIDE = "no_adult_alongside"
"""A ``minor_ok`` group post: its eligible volunteers free together are all minors."""

#: Format 2's codes: format 1's, then the posts' own (format-1 plans keep format 1's list).
POST_REASON_CODES: tuple[str, ...] = (
    *REASON_CODES[:-1],
    TOO_FEW_VOLUNTEERS_TOGETHER,
    NO_LEAD_VOLUNTEER,
    NO_ADULT_ALONGSIDE,
    CAPACITY_TAKEN,
)
