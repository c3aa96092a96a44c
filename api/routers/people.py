"""Volunteers, beneficiaries and their standing needs: JSON and CSV (to be filled in)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1", tags=["people"])
