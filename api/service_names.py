"""The services' Chinese names, as the service's own texts write them (the messages of a publication).

The exchange format knows codes only (``life_care``).  The web pages translate their English
labels (:data:`web.labels.SERVICES`) through the ``zh_CN`` catalogue; texts the service writes
itself, outside any page and its language (a WeChat or SMS message to a volunteer), take the
Chinese names from here.  ``tests/web/test_publication_pages.py`` holds the two together: every
code has a name here, and the catalogue's translation of the page's label is this name.
"""

from __future__ import annotations

SERVICE_NAMES: dict[str, str] = {
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
"""Each service code of :data:`matcher.format.schema.SERVICE_CODES`, in Chinese."""


def service_name(code: str) -> str:
    """A service's Chinese name (the code itself for one without a name)."""
    return SERVICE_NAMES.get(code, code)
