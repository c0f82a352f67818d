"""Loads the demo roster (``demo/roster.yaml``): units named by the seed articles and invented members."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from storage.membership import MemberData, MemberRepository, UnitRepository


def read_demo(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


async def load_demo(session: AsyncSession, data: dict, now: datetime) -> tuple[int, int]:
    """Create or update the demo units, members and roles; returns (units, members)."""
    units = UnitRepository(session)
    by_code = {}
    for u in data["units"]:
        by_code[u["code"]] = await units.upsert(u["code"], u["name"], u["level"], u.get("parent"), is_demo=True)
    members = MemberRepository(session)
    await members.upsert_many([MemberData(member_code=m["code"], full_name=m["name"], unit_id=by_code[m["unit"]].id,
                                          phone=m.get("phone"), is_demo=True) for m in data["members"]], now)
    for m in data["members"]:
        member = await members.by_code(m["code"])
        if member is None:  # upserted just above
            raise LookupError("a demo member was not stored")
        for role in m.get("roles", []):
            await members.grant(member.id, role, None if role == "admin" else by_code[m["unit"]].id)
    return len(data["units"]), len(data["members"])
