"""Use cases without a chat: one's initiatives page by page, unlinking a group chat, and
entering an initiative for a member; and the typed codes of their buttons."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.chats import Unlink, unlink_chat
from domain.codes import ButtonCode, parse
from domain.commend import CardWeek
from domain.errors import InputError, NotAllowed, NotFound
from domain.joining import JoinUnit, KeepUnit, PickUnit, SearchUnits, UseShownName
from domain.mine import MyPage, OpenMine, my_initiatives
from domain.model import Initiative, InitiativeStatus, Member, RoleKind, Unit
from domain.ports import UnitOfWork
from domain.proxy import (
    PROXY_CHANNEL,
    ForAMember,
    ForMyself,
    NewMember,
    PickMember,
    add_proxy_member,
    find_members,
    proxy_author,
)
from domain.ui import Forged
from storage.uow import SqlUnitOfWorkFactory

NOW = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)
MAY10, ANNORA, LONG_BIEN = "HN-LB-MAY10", "TH-KCN-ANNORA", "HN-LB"


async def unit(uow: UnitOfWork, code: str) -> Unit:
    found = await uow.units.by_code(code)
    assert found is not None, code
    return found


async def person(uow: UnitOfWork, number: int, name: str, code: str | None = None) -> Member:
    """A member who joined the unit of this code (no unit when None)."""
    unit_id = (await unit(uow, code)).id if code else None
    return await uow.members.add(
        Member(0, "telegram", str(number), name, "vi", full_name=name, unit_id=unit_id), NOW
    )


async def role(uow: UnitOfWork, member: Member, code: str, kind: RoleKind) -> None:
    await uow.roles.grant(member.id, (await unit(uow, code)).id, kind, None, NOW)


async def write(
    uow: UnitOfWork,
    author: Member,
    title: str,
    status: InitiativeStatus = InitiativeStatus.PENDING,
    entered_by: Member | None = None,
) -> Initiative:
    assert author.unit_id is not None
    return await uow.initiatives.add(Initiative(
        0, author.id, (entered_by or author).id, author.unit_id, status, NOW, NOW, title=title,
    ))  # fmt: skip


async def test_my_initiatives_come_newest_first_page_by_page(
    units_of_work: SqlUnitOfWorkFactory,
) -> None:
    async with units_of_work() as uow:
        lan = await person(uow, 1, "Nguyễn Thị Lan", MAY10)
        binh = await person(uow, 2, "Trần Văn Bình", MAY10)
        helper = await person(uow, 3, "Tổ Hỗ Trợ", MAY10)
        newcomer = await person(uow, 4, "Mới Đến", MAY10)
        written = [await write(uow, lan, f"Ý tưởng {index}") for index in range(7)]
        await write(uow, lan, "Đã bỏ", InitiativeStatus.DISCARDED)
        await write(uow, binh, "Của Bình")
        entered = await write(uow, lan, "Nhập thay", entered_by=helper)
        await uow.commit()

    async with units_of_work() as uow:
        first = await my_initiatives(uow, lan, 0, 5)
        newest = [entered, *reversed(written)]
        assert (first.total, first.page, first.pages) == (8, 0, 2), "the discarded is not counted"
        assert [i.id for i in first.items] == [i.id for i in newest[:5]]
        second = await my_initiatives(uow, lan, 1, 5)
        assert [i.title for i in second.items] == ["Ý tưởng 2", "Ý tưởng 1", "Ý tưởng 0"]
        assert await my_initiatives(uow, lan, 7, 5) == second, "past the end: the last page"
        assert (await my_initiatives(uow, lan, -3, 5)).page == 0

        for_others = await my_initiatives(uow, helper, 0, 5)
        assert [i.title for i in for_others.items] == ["Nhập thay"], "the helper follows it too"
        assert [i.title for i in (await my_initiatives(uow, binh, 0, 5)).items] == ["Của Bình"]
        nothing = await my_initiatives(uow, newcomer, 4, 5)
        assert (nothing.items, nothing.total, nothing.pages) == ((), 0, 0)
        with pytest.raises(ValueError):
            await my_initiatives(uow, lan, 0, 0)


async def test_an_admin_unlinks_only_their_units_chats(
    units_of_work: SqlUnitOfWorkFactory,
) -> None:
    async with units_of_work() as uow:
        admin = await person(uow, 10, "Quản Trị May", MAY10)
        other_admin = await person(uow, 11, "Quản Trị Annora", ANNORA)
        worker = await person(uow, 12, "Công Nhân", MAY10)
        await role(uow, admin, MAY10, RoleKind.ADMIN)
        await role(uow, other_admin, ANNORA, RoleKind.ADMIN)
        may10 = await unit(uow, MAY10)
        await uow.chats.link(may10.id, "-1001", "Tổ may", admin.id, NOW, None)
        await uow.chats.link(may10.id, "-1002", "", admin.id, NOW, None)
        await uow.commit()
        links = {chat.chat_id: chat.id for chat in (await uow.chats.of_units([may10.id]))[may10.id]}

    async with units_of_work() as uow:
        for outsider in (other_admin, worker):
            with pytest.raises(NotFound) as refused:
                await unlink_chat(uow, outsider, links["-1001"])
            assert refused.value.text.msgid == "This chat is not linked any more."
        link = await uow.chats.by_chat("-1001")
        assert link is not None and link.active, "a refusal changes nothing"

        unlinked = await unlink_chat(uow, admin, links["-1001"])
        assert unlinked.name == "Tổ may"
        assert (await unlink_chat(uow, admin, links["-1002"])).name == "-1002", "untitled"
        await uow.commit()

    async with units_of_work() as uow:
        link = await uow.chats.by_chat("-1001")
        assert link is not None and not link.active
        assert not await uow.chats.of_units([may10.id])
        with pytest.raises(NotFound):
            await unlink_chat(uow, admin, links["-1001"])


async def test_a_helper_enters_only_for_members_of_their_units(
    units_of_work: SqlUnitOfWorkFactory,
) -> None:
    async with units_of_work() as uow:
        lan = await person(uow, 20, "Nguyễn Thị Lan", MAY10)
        far = await person(uow, 21, "Nguyễn Thị Lan Anh", ANNORA)
        unjoined = await person(uow, 22, "Chưa Vào")
        grassroots_helper = await person(uow, 23, "Tổ May", MAY10)
        upper_helper = await person(uow, 24, "Tổ Quận", MAY10)
        await role(uow, grassroots_helper, MAY10, RoleKind.HELPER)
        await role(uow, upper_helper, LONG_BIEN, RoleKind.HELPER)
        await uow.commit()

    async with units_of_work() as uow:
        for helper in (grassroots_helper, upper_helper):
            assert await proxy_author(uow, helper, lan.id) == lan
            for beyond in (far.id, unjoined.id, 999_999):
                with pytest.raises(NotAllowed) as refused:
                    await proxy_author(uow, helper, beyond)
                assert refused.value.text.msgid == "This member is not in your units."
        with pytest.raises(NotAllowed) as refused:
            await proxy_author(uow, lan, lan.id)
        assert refused.value.text.msgid == "This is for the initiative support team."

        search = await find_members(uow, grassroots_helper, "  nguyen THI lan ")
        assert search.name == "nguyen THI lan"
        assert [m.id for m in search.found] == [lan.id], "Annora's Lan Anh is not shown"
        assert search.may_add
        above = await find_members(uow, upper_helper, "lan")
        assert [m.id for m in above.found] == [lan.id], "a unit just below is searched"
        assert not above.may_add, "a member is added to a grassroots union only"
        assert not (await find_members(uow, upper_helper, "x")).may_add, "too short a name"
        nobody = await find_members(uow, lan, "lan")
        assert (nobody.found, nobody.may_add) == ((), False), "no helper, no one found"
        with pytest.raises(InputError):
            await find_members(uow, grassroots_helper, " … ")


async def test_a_helper_adds_a_member_who_does_not_use_the_bot(
    units_of_work: SqlUnitOfWorkFactory,
) -> None:
    async with units_of_work() as uow:
        grassroots_helper = await person(uow, 30, "Tổ May", MAY10)
        upper_helper = await person(uow, 31, "Tổ Quận", MAY10)
        await role(uow, grassroots_helper, MAY10, RoleKind.HELPER)
        await role(uow, upper_helper, LONG_BIEN, RoleKind.HELPER)
        await uow.commit()

    async with units_of_work() as uow:
        with pytest.raises(NotAllowed):
            await add_proxy_member(uow, upper_helper, "Phạm Văn Tèo", NOW)
        with pytest.raises(InputError) as refused:
            await add_proxy_member(uow, grassroots_helper, "12", NOW)
        assert not isinstance(refused.value, NotAllowed), "the name is wrong, not the helper"
        teo = await add_proxy_member(uow, grassroots_helper, "Phạm Văn Tèo", NOW)
        await uow.commit()

    async with units_of_work() as uow:
        stored = (await uow.members.by_ids([teo.id]))[teo.id]
        assert stored.channel == PROXY_CHANNEL and stored.full_name == "Phạm Văn Tèo"
        assert stored.unit_id == (await unit(uow, MAY10)).id
        assert [m.id for m in (await find_members(uow, upper_helper, "teo")).found] == [teo.id]
        assert await proxy_author(uow, upper_helper, teo.id) == stored


@pytest.mark.parametrize(
    ("code", "press"),
    [
        ("j:search", SearchUnits()), ("j:keep", KeepUnit()), ("j:pick:12", PickUnit(12)),
        ("j:ok:12", JoinUnit(12)), ("j:name", UseShownName()),
        ("m:page:3", MyPage(3)), ("m:open:41:2", OpenMine(41, 2)),
        ("h:self", ForMyself()), ("h:other", ForAMember()), ("h:pick:31", PickMember(31)),
        ("h:new", NewMember()), ("g:off:7", Unlink(7)),
        ("k:12:last", CardWeek(12, "last")), ("k:12:now", CardWeek(12, "now")),
    ],
)  # fmt: skip
def test_buttons_already_in_chats_read_as_before(code: str, press: ButtonCode) -> None:
    assert press.encode() == code
    assert parse(code) == press


@pytest.mark.parametrize(
    "code",
    ["j:keep:1", "j:pick", "j:ok:x", "j:join:1", "m:open:1", "m:page:1:2", "h:pick:-1",
     "h:self:1", "g:off", "g:on:1", "k:1", "k:1:today", "k:x:now", "k:1:now:2"],
)  # fmt: skip
def test_anything_else_is_forged(code: str) -> None:
    with pytest.raises(Forged):
        parse(code)
