"""Who gets into the web view: Telegram's Mini App launch data, checked with good and
tampered data, and the one-time login link (valid, used twice, expired, forged)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest

from domain.errors import NotAllowed
from domain.model import RoleKind
from domain.web_access import (
    LOGIN_LIFETIME,
    secret_hash,
    sign_in_by_link,
    sign_in_on_telegram,
    staff_of,
)
from handlers.web.initdata import InitDataRefused, check_init_data
from storage.uow import SqlUnitOfWorkFactory
from tests.usecase_world import NOW, World

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789"
DAY = dt.timedelta(days=1)
HOURS = dt.timedelta(hours=8)


def launch(fields: dict[str, str], token: str = TOKEN) -> str:
    """initData as Telegram makes it, computed here from the documented algorithm."""
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    key = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    digest = hmac.new(key, check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest})


def fields(user_id: int = 801, at: dt.datetime = NOW) -> dict[str, str]:
    """A launch's fields: the user (JSON), when, and a query id."""
    user = {"id": user_id, "first_name": "An", "language_code": "vi"}
    return {"query_id": "AAHdF6IQAAAAAN0XohDhrOrc", "auth_date": str(int(at.timestamp())),
            "user": json.dumps(user, separators=(",", ":"), ensure_ascii=False)}  # fmt: skip


def test_a_good_launch_names_its_user() -> None:
    checked = check_init_data(launch(fields()), TOKEN, NOW + dt.timedelta(hours=1), DAY)
    assert checked.user_id == 801 and checked.auth_date == NOW


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (launch(fields()).replace("801", "802"), "wrong hash"),
        (launch(fields()).replace("hash=", "hash=0"), "wrong hash"),
        (launch(fields(), token="654321:" + "x" * 30), "wrong hash"),
        (urlencode(fields()), "no hash"),
        (launch(fields(at=NOW - DAY - dt.timedelta(seconds=1))), "expired"),
        (launch(fields(at=NOW + dt.timedelta(hours=1))), "expired"),
        (launch(fields()) + "&auth_date=1", "a field is repeated"),
        ("", "missing or too long"),
        (launch({"auth_date": str(int(NOW.timestamp())), "user": "{}"}), "no user"),
    ],
    ids=["changed field", "wrong hash", "another bot", "missing hash", "expired",
         "from the future", "repeated field", "empty", "no user"],
)  # fmt: skip
def test_a_tampered_or_stale_launch_is_refused(raw: str, reason: str) -> None:
    with pytest.raises(InitDataRefused, match=reason):
        check_init_data(raw, TOKEN, NOW, DAY)


async def issue(world: World, member_id: int, token: str, at: dt.datetime = NOW) -> None:
    """A login link as /web issues it."""
    async with world.session() as uow:
        await uow.web.issue_login(secret_hash("login", token), member_id, at + LOGIN_LIFETIME,
                                  at)  # fmt: skip
        await uow.commit()


async def use(world: World, token: str, at: dt.datetime = NOW) -> int:
    """Open a login link; the member signed in."""
    async with world.session() as uow:
        opened = await sign_in_by_link(uow, token, at, HOURS)
        await uow.commit()
    return opened.staff.member.id


async def test_a_link_signs_its_admin_in_once(units_of_work: SqlUnitOfWorkFactory) -> None:
    world = World(units_of_work)
    admin = await world.person(admin_of="HN-LB-MAY10")
    await issue(world, admin.id, "good-token")
    assert await use(world, "good-token", NOW + dt.timedelta(minutes=9)) == admin.id
    with pytest.raises(NotAllowed):
        await use(world, "good-token", NOW + dt.timedelta(minutes=9))


async def test_expired_and_forged_links_open_nothing(
    units_of_work: SqlUnitOfWorkFactory,
) -> None:
    world = World(units_of_work)
    admin = await world.person(admin_of="HN-LB-MAY10")
    await issue(world, admin.id, "late-token")
    for token, at in (("late-token", NOW + LOGIN_LIFETIME), ("forged-token", NOW),
                      ("late-toke", NOW)):  # fmt: skip
        with pytest.raises(NotAllowed):
            await use(world, token, at)
    async with world.session() as uow:
        assert await uow.web.use_login(secret_hash("login", "late-token"), NOW) is not None, (
            "a failed try with a wrong token does not spend the real one"
        )


async def test_a_session_ends_when_the_role_goes(units_of_work: SqlUnitOfWorkFactory) -> None:
    world = World(units_of_work)
    admin = await world.person(admin_of="HN-LB-MAY10")
    async with world.session() as uow:
        opened = await sign_in_on_telegram(uow, "telegram", int(admin.external_id), NOW, HOURS)
        await uow.commit()
    async with world.session() as uow:
        staff = await staff_of(uow, opened.session_id, NOW + dt.timedelta(hours=1))
        assert staff is not None and staff.member.id == admin.id
        assert await staff_of(uow, opened.session_id, NOW + HOURS) is None, "expired"
        assert await staff_of(uow, "forged", NOW) is None
        may10 = await uow.units.by_code("HN-LB-MAY10")
        assert may10 is not None
        await uow.roles.revoke(admin.id, may10.id, RoleKind.ADMIN, None, NOW)
        with pytest.raises(NotAllowed):
            await staff_of(uow, opened.session_id, NOW)
        assert await uow.web.session(secret_hash("session", opened.session_id), NOW) is None


async def test_a_worker_gets_no_session(units_of_work: SqlUnitOfWorkFactory) -> None:
    world = World(units_of_work)
    worker = await world.person(unit="HN-LB-MAY10")
    await issue(world, worker.id, "worker-token")
    with pytest.raises(NotAllowed):
        await use(world, "worker-token")
    async with world.session() as uow:
        with pytest.raises(NotAllowed):
            await sign_in_on_telegram(uow, "telegram", int(worker.external_id), NOW, HOURS)
        with pytest.raises(NotAllowed):
            await sign_in_on_telegram(uow, "telegram", 424242, NOW, HOURS)
