"""协调员工作台: the station coordinators' web app, served by ``linli serve`` beside the API.

Server-rendered Jinja2 pages with HTMX (vendored in ``static/``, no build step, nothing
from a CDN), Chinese by default and English by a switch or ``Accept-Language``; every
string comes from the message catalogue in ``locale/`` (:mod:`web.i18n`).
"""
