"""Names of the exchange format's codes, as message ids (translated where shown)."""

from __future__ import annotations

from web.i18n import N_, Gettext

SERVICES: dict[str, str] = {
    "life_care": N_("Daily living care"),
    "health_care": N_("Health care"),
    "emotional_support": N_("Emotional support"),
    "emergency_aid": N_("Emergency aid"),
    "legal_aid": N_("Legal aid"),
    "recreation": N_("Recreation"),
    "tutoring": N_("Tutoring"),
    "interest_activities": N_("Interest activities"),
    "companionship": N_("Companionship"),
    "counseling": N_("Counselling"),
    "housekeeping": N_("Housekeeping"),
    "rehabilitation": N_("Rehabilitation"),
    "employment_support": N_("Employment support"),
    "rights_protection": N_("Rights protection"),
    "accessibility": N_("Accessibility help"),
    "job_skills": N_("Job skills"),
    "health_check": N_("Health check"),
    "safety_education": N_("Safety education"),
    "civility_guidance": N_("Civility guidance"),
    "environment": N_("Environment"),
    "culture_sports": N_("Culture and sports"),
}

CATEGORIES: dict[str, str] = {
    "elderly": N_("Elderly"),
    "child": N_("Children"),
    "disabled": N_("Disabled"),
    "migrant_worker": N_("Migrant workers"),
    "community": N_("Community"),
}
"""The programmes (敬老, 爱幼, 助残, 农民工, 社区), in the order the pages list them."""

REASONS: dict[str, str] = {
    "no_volunteer_with_skill_in_reach": N_("No volunteer nearby has this service's skill"),
    "no_certified_volunteer": N_("Volunteers with the skill lack a valid required certificate"),
    "minor_not_allowed": N_("This service may not be given by an under-18 volunteer"),
    "gender_mismatch": N_("The beneficiary asks for a volunteer of another gender"),
    "volunteer_excluded": N_("The beneficiary does not want the available volunteer"),
    "no_available_slot": N_("No volunteer is free often enough in the times the beneficiary accepts"),
    "exceeds_max_hours": N_("The hours needed exceed the volunteers' weekly maximum"),
    "no_beneficiary_capacity": N_("The volunteers cannot take on another beneficiary"),
    "too_few_volunteers_together": N_("Too few suitable volunteers are free together for this post"),
    "no_lead_volunteer": N_("No suitable volunteer can lead this post"),
    "no_adult_alongside": N_("Only under-18 volunteers are free for this post, with no adult beside them"),
    "capacity_taken": N_("Suitable volunteers exist, but their time went to other needs"),
}

CERTIFICATES: dict[str, str] = {
    "first_aid": N_("First aid"),
    "health_care": N_("Medical care"),
    "legal": N_("Law"),
    "fire_safety": N_("Fire safety"),
    "traffic": N_("Traffic safety"),
    "child_safeguarding": N_("Child safeguarding"),
}
"""Certification kinds (the format's :data:`~matcher.format.schema.CERTIFICATION_KINDS`)."""

DAYS: dict[str, str] = {
    "mon": N_("Mon"),
    "tue": N_("Tue"),
    "wed": N_("Wed"),
    "thu": N_("Thu"),
    "fri": N_("Fri"),
    "sat": N_("Sat"),
    "sun": N_("Sun"),
}

PERIODS: dict[str, str] = {"am": N_("morning"), "pm": N_("afternoon"), "eve": N_("evening")}

STATES: dict[str, str] = {
    "queued": N_("Queued"),
    "solving": N_("Solving"),
    "done": N_("Done"),
    "failed": N_("Failed"),
    "cancelled": N_("Cancelled"),
    "reverted": N_("Undone"),
}

STAGES: dict[str, str] = {
    "start": N_("First plan ready"),
    "city_search": N_("Improving the plan area by area"),
    "columns": N_("Weighing each volunteer's possible schedules"),
    "branch": N_("Searching for a better plan"),
    "pool": N_("Combining the best schedules"),
    "full_model": N_("Building the full model"),
    "settle": N_("Best coverage proved: keeping pairs together, shortening trips"),
    "prove": N_("Proving the best coverage"),
    "collect_search": N_("Taking in the best plan found"),
    "top_up": N_("Filling the needs still open"),
    "done": N_("Finished"),
}
"""The engine's stages as a job's progress names them (every code of
``matcher.progress.STAGES``, which says what each means; a test holds the two together)."""


def label(names: dict[str, str], code: str, _: Gettext) -> str:
    """A code's name in the page's language (the code itself if it has none)."""
    return _(names[code]) if code in names else code


def slot_label(slot: str, _: Gettext) -> str:
    """``mon-am`` as 周一上午 / Mon morning."""
    day, _sep, period = slot.partition("-")
    return _("%(day)s %(period)s") % {"day": label(DAYS, day, _), "period": label(PERIODS, period, _)}
