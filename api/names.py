"""The Chinese names of the exchange format's codes, for what Linli writes in Chinese whatever the
language of the coordinator's pages: the 志愿服务证明 (:mod:`api.services.certificates`), the 年度台账
(:mod:`api.services.ledger`) and the volunteers' calendars (:mod:`api.services.calendars`).

Declared once, here, below the web app: the service layer may not import :mod:`web`.  They are the
web app's zh_CN translations of :mod:`web.labels`' names of the same codes; a test keeps the two in step
(``tests/service/test_api_certificates.py``).
"""

from __future__ import annotations

PROGRAMMES: dict[str, str] = {
    "elderly": "敬老",
    "child": "爱幼",
    "disabled": "助残",
    "migrant_worker": "农民工",
    "community": "社区",
}
"""Programme (beneficiary category) names, in the order certificates and ledgers list them."""

POST_PROGRAMME = "post"
"""The programme of a session of a group post at a site (no beneficiary, so no category); listed
after :data:`PROGRAMMES`, only where such sessions are."""
POST_PROGRAMME_NAME = "多人岗位"

SERVICES: dict[str, str] = {
    "life_care": "生活照料",
    "health_care": "医疗保健",
    "emotional_support": "精神慰藉",
    "emergency_aid": "紧急救助",
    "legal_aid": "法律援助",
    "recreation": "文体娱乐",
    "tutoring": "课业辅导",
    "interest_activities": "兴趣活动",
    "companionship": "陪伴关爱",
    "counseling": "心理疏导",
    "housekeeping": "家政服务",
    "rehabilitation": "康复训练",
    "employment_support": "就业帮扶",
    "rights_protection": "权益维护",
    "accessibility": "无障碍出行",
    "job_skills": "技能培训",
    "health_check": "健康体检",
    "safety_education": "安全教育",
    "civility_guidance": "文明引导",
    "environment": "环境保护",
    "culture_sports": "文化体育",
}
"""Service names by code."""


def service_name(code: str) -> str:
    """A service's Chinese name; the code itself if it has none."""
    return SERVICES.get(code, code)
