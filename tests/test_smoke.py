from tests.fakebotapi import Harness


async def test_start_offers_search(bot: Harness) -> None:
    worker = bot.member(101, "Lan", "Nguyễn")
    calls = await worker.say("/start")
    assert calls, "no reply"
    print(worker.transcript())
