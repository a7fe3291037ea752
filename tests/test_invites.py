"""Appointing admins and helpers with one-time links, and revoking them."""

from __future__ import annotations

import datetime as dt
import io
import re

import segno

from charts.qr import QR_BORDER, QR_SCALE, qr_png
from domain.model import InitiativeStatus
from tests.conftest import Clock
from tests.fakebotapi import Call, Harness, Member
from tests.scenario import join
from tests.test_review import ADMIN_A, WORKER, grant, notice, submit
from tests.test_submission import load

LINK = re.compile(r"https://t\.me/sangkien_test_bot\?start=(inv_[A-Za-z0-9_-]+)")


def invitation(admin: Member) -> Call:
    """The latest invitation: a QR code picture with the link, copyable, as its caption."""
    photo: Call = admin.harness.api.photos_to(admin.id)[-1]
    return photo


async def invite(admin: Member, role_label: str, unit_label: str) -> str:
    """Make an invitation in chat and return its deep-link payload."""
    await admin.say("/invite")
    await admin.tap(role_label)
    await admin.tap(unit_label)
    found = LINK.search(invitation(admin).text)
    assert found, admin.transcript()
    return found.group(1)


async def test_invited_admin_reviews_then_is_revoked(bot: Harness, database_url: str) -> None:
    await grant(database_url, "HN-LB", ADMIN_A)
    admin = bot.member(ADMIN_A, "An")
    payload = await invite(admin, "quản trị", "CĐCS Công ty May 10")
    assert "một lần" in invitation(admin).text and "29/11/2026" in invitation(admin).text
    newcomer = bot.member(900, "Giang")
    await newcomer.say(f"/start {payload}")
    await newcomer.say("đồng ý")  # the privacy notice first, then the link
    assert "quản trị của CĐCS Công ty May 10" in newcomer.last().text
    assert "Giang" in admin.last().text, "the inviter hears of it"

    worker = bot.member(WORKER, "Lan")
    await join(worker)
    await submit(worker)
    assert "SK-000001" in newcomer.last().text, "the new admin gets the card"
    assert not any("SK-000001" in c.text for c in bot.api.sent_to(ADMIN_A)), "not the one above"

    await admin.say("/roles")
    assert "Giang" in admin.last().text
    await admin.tap("Thu hồi: Giang")
    assert "Đã thu hồi" in admin.last().text
    calls = await newcomer.tap("✅ Duyệt")
    assert "không có quyền" in notice(calls), "a revoked admin's buttons stop at once"
    assert (await load(database_url, 1)).status is InitiativeStatus.PENDING


async def test_used_expired_and_tampered_links(
    bot: Harness, database_url: str, clock: Clock
) -> None:
    await grant(database_url, "HN-LB-MAY10", ADMIN_A)
    admin = bot.member(ADMIN_A, "An")
    payload = await invite(admin, "tổ hỗ trợ", "CĐCS Công ty May 10")
    first, second = bot.member(901, "Hải"), bot.member(902, "Hạnh")
    await first.say(f"/start {payload}")
    await first.say("đồng ý")
    assert "tổ hỗ trợ sáng kiến" in first.last().text
    await second.say(f"/start {payload}")
    await second.say("đồng ý")
    assert "đã được dùng" in second.last().text

    expiring = await invite(admin, "quản trị", "CĐCS Công ty May 10")
    clock.now += dt.timedelta(days=8)
    await second.say(f"/start {expiring}")
    assert "hết hạn" in second.last().text

    tampered = payload[:-3] + ("AAA" if not payload.endswith("AAA") else "BBB")
    await second.say(f"/start {tampered}")
    assert "không hợp lệ" in second.last().text
    await second.say("/pending")
    assert "dành cho quản trị" in second.last().text, "no link granted anything to her"


async def test_invitations_stay_inside_the_admins_subtree(bot: Harness, database_url: str) -> None:
    await grant(database_url, "HN-LB-MAY10", ADMIN_A)
    admin = bot.member(ADMIN_A, "An")
    await admin.say("/invite")
    await admin.tap("quản trị")
    labels = [label for label, _ in admin.last().buttons]
    assert labels == ["CĐCS Công ty May 10"]
    for data in (
        "i:unit:admin:1",
        "i:unit:owner:20",
        "i:role:king",
        "i:revoke:1",
        "i:unit:admin:x",
    ):
        calls = await admin.press(data)
        assert notice(calls), data
    outsider = bot.member(903, "Khách")
    await outsider.say("/invite")
    assert "dành cho quản trị" in outsider.last().text
    await outsider.say("/roles")
    assert "dành cho quản trị" in outsider.last().text


async def test_an_invitation_dies_with_its_senders_role(bot: Harness, database_url: str) -> None:
    await grant(database_url, "HN-LB-MAY10", ADMIN_A)
    admin = bot.member(ADMIN_A, "An")
    payload = await invite(admin, "quản trị", "CĐCS Công ty May 10")
    await grant(database_url, "HN-LB-MAY10", ADMIN_A, revoke=True)
    newcomer = bot.member(904, "Linh")
    await newcomer.say(f"/start {payload}")
    await newcomer.say("đồng ý")
    assert "không còn hiệu lực" in newcomer.last().text


def dark_modules(png: bytes) -> list[list[bool]]:
    """A QR code picture read back module by module: dark or light at each module's centre."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    size = image.width // QR_SCALE - 2 * QR_BORDER
    centre = [(QR_BORDER + n) * QR_SCALE + QR_SCALE // 2 for n in range(size)]
    return [[image.getpixel((x, y)) < 128 for x in centre] for y in centre]  # type: ignore[operator]


async def test_an_invitation_comes_as_a_qr_code_of_its_link(
    bot: Harness, database_url: str
) -> None:
    await grant(database_url, "HN-LB-MAY10", ADMIN_A)
    admin = bot.member(ADMIN_A, "An")
    payload = await invite(admin, "quản trị", "CĐCS Công ty May 10")
    photo = invitation(admin)
    link = f"https://t.me/sangkien_test_bot?start={payload}"
    assert link in photo.text.splitlines(), "the link stays copyable, in the caption"
    assert "quét mã QR" in photo.text
    (picture,) = photo.files.values()
    assert picture.startswith(b"\x89PNG") and picture == qr_png(link)
    # No QR decoder is installed: read the picture back and compare it with the symbol
    # segno makes of the same link, module by module.
    symbol = segno.make(link, error="q", micro=False)
    assert dark_modules(picture) == [[bool(m) for m in row] for row in symbol.matrix]
    newcomer = bot.member(905, "Mai")
    await newcomer.say(f"/start {payload}")
    await newcomer.say("đồng ý")
    assert "quản trị của CĐCS Công ty May 10" in newcomer.last().text, "the link works"

    await admin.say("/lang")
    await admin.tap("English")
    await admin.say("/invite")
    await admin.tap("initiative support team")
    await admin.tap("CĐCS Công ty May 10")
    english = invitation(admin)
    found = LINK.search(english.text)
    assert found and "scan the QR code" in english.text, english.text
    (picture,) = english.files.values()
    assert picture == qr_png(found.group(0))
