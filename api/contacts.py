"""Contact details (issue 19): how a phone number, a WeChat id, a name and an address are masked.

Contact details are personal data.  They are stored and exported only within the station's
scope, shown in full only on the person's own page (``GET …/volunteers/{id}``, the 人员 form),
masked everywhere a list shows many people at once, and never written to a log, an error
message or the audit log (which records them masked: :data:`api.audit.AUDITED`).

Every mask here is one-way and idempotent (a masked value masked again is unchanged), so a
list model can mask whatever it is given (:class:`api.models.VolunteerListItem`).  The one
table of which field is masked how is :data:`MASKS`; :func:`masked` applies it to a record.

Other parts of Linli that show people (publication, calendars, plan pages) mask with
:func:`mask_phone`, :func:`mask_wechat`, :func:`mask_name`, :func:`mask_contact_name`,
:func:`mask_address`, or :func:`masked` for a whole record.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

STAR = "*"
HIDDEN = "****"
"""What stands for a hidden part of fixed length (so the mask does not tell the length)."""


def _is_masked(value: str) -> bool:
    return STAR in value


def mask_phone(phone: str) -> str:
    """A phone number with its middle digits starred: ``13812341234`` → ``138****1234``.

    Spaces and hyphens are dropped; a ``+86`` (China's code) is kept in front
    (``+86 138****1234``), another country's ``+`` with its digits.  At least four digits are
    always hidden: a number keeps its last 4 digits (2 if it has fewer than 8) and up to 3
    first ones (a landline ``0571-8888 1234`` → ``057*****1234``, ``8888 1234`` → ``****1234``).
    """
    phone = phone.strip()
    if not phone or _is_masked(phone):
        return phone
    digits = re.sub(r"\D", "", phone)
    prefix = ""
    if phone.startswith("+"):
        if digits.startswith("86") and len(digits) > 2:
            prefix, digits = "+86 ", digits[2:]
        else:
            prefix = "+"
    last = 4 if len(digits) >= 8 else 2
    first = max(0, min(3, len(digits) - last - len(HIDDEN)))
    return prefix + digits[:first] + STAR * (len(digits) - first - last) + digits[-last:]


def mask_wechat(wechat: str) -> str:
    """A WeChat id with only its first and last characters kept: ``wang_li_88`` → ``w****8``."""
    wechat = wechat.strip()
    if not wechat or _is_masked(wechat):
        return wechat
    return wechat[0] + HIDDEN + wechat[-1]


def mask_name(name: str) -> str:
    """A name with all but its first and last characters starred: 张*明, 欧阳**华; 李* for two."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + STAR
    return name[0] + STAR * (len(name) - 2) + name[-1]


def mask_contact_name(contact: str) -> str:
    """A beneficiary's contact person: the relation kept, the name masked as a certificate's
    (``儿子 王强`` → ``儿子 王*``; ``张三明`` → ``张*明``)."""
    contact = contact.strip()
    if not contact or _is_masked(contact):
        return contact
    relation, _sep, person = contact.rpartition(" ")
    return f"{relation.strip()} {mask_name(person)}" if relation.strip() else mask_name(person)


def mask_address(address: str) -> str:
    """An address with only its community kept: ``幸福里 3 幢 2 单元 301`` → ``幸福里 ****``.

    The community is what comes before the first space or digit (``幸福里3幢…`` → ``幸福里 ****``),
    at most half the address (an address with neither keeps its first quarter).
    """
    address = address.strip()
    if not address or _is_masked(address):
        return address
    head = re.split(r"[\s\d]", address, maxsplit=1)[0]
    limit = len(address) // 2 if head != address else len(address) // 4
    head = head[:limit]
    return f"{head} {HIDDEN}" if head else HIDDEN


MASKS: dict[str, Callable[[str], str]] = {
    "phone": mask_phone,
    "wechat": mask_wechat,
    "address": mask_address,
    "contact_name": mask_contact_name,
    "contact_phone": mask_phone,
}
"""The contact fields of volunteers and beneficiaries, each with its mask (the one place that says so)."""

CONTACT_FIELDS = frozenset(MASKS)
"""The fields that hold contact details (personal data: never logged)."""


def mask(field: str, value: Any) -> Any:
    """``value`` of ``field`` as a list shows it: masked if it is a contact field's text, else as it is."""
    if field in MASKS and isinstance(value, str):
        return MASKS[field](value)
    return value


def masked(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record (a volunteer's or beneficiary's fields) with its contact fields masked."""
    return {key: mask(key, value) for key, value in record.items()}
