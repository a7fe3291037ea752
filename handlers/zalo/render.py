"""A core reply becomes Zalo texts: the choices numbered under it, long texts cut at
paragraph, line or sentence ends; a queued notification is rendered the same way, once
per language, when the sender sends it."""

from __future__ import annotations

from domain.numbered import numbered
from domain.text import Text, _
from domain.ui import Capabilities, Reply, caption_length
from handlers import splitting
from locales import Translator

CHANNEL = "zalo"
# What Zalo's Bot Platform can show: no buttons or keyboards of any kind, 1–2.000
# characters in a sendMessage text and 2.000 in a sendPhoto caption; its sender takes its
# members' notifications from the delivery queue, at its pace.
CAPABILITIES = Capabilities(
    buttons=False, text_limit=2000, caption_limit=2000, queued=True, label="Zalo"
)


def render(reply: Reply, translator: Translator, language: str) -> list[str]:
    """The texts that show one reply on Zalo, in order; empty when it has nothing to say.

    Its pictures (a chart, a card, a QR code, a photo) and files are left out: Zalo
    fetches pictures from a public address, which ``handlers.zalo.pictures`` adds when
    the bot has one.
    """
    text = translator.lines(reply.text, language)
    return pieces(text, choice_lines(reply, translator, language))


# A queued message is shown as a reply is; the same texts serve every reader of a language.
notification = render


def choice_lines(reply: Reply, translator: Translator, language: str) -> str:
    """A reply's buttons, or the commands of its keyboard, as numbered lines ending with
    how to choose; "" when it offers none. The order is the core's (``numbered``): a
    number typed next means the choice shown with it."""
    # Pages to open (a Mini App's button elsewhere) are links here, on lines of their own.
    links = [f"{translator.render(key.label, language)}: {key.web}"
             for row in reply.keyboard or () for key in row if key.web]  # fmt: skip
    offered = numbered(reply)
    if not offered:
        return "\n".join(links)
    lines = [f"{number}. {translator.render(choice.label, language)}"
             for number, choice in enumerate(offered, start=1)]  # fmt: skip
    lines.append(translator.render(how_to_choose(len(offered)), language))
    return "\n".join([*links, *lines])


def how_to_choose(count: int) -> Text:
    """The line under numbered choices: what to type to choose."""
    if count == 1:
        return _("Reply 1 to choose it.")
    return _("Reply with the number of your choice (1–{count}).", count=count)


def pieces(text: str, choices: str, limit: int = CAPABILITIES.text_limit) -> list[str]:
    """``text`` cut to Zalo's size with the numbered ``choices`` under it, kept whole in
    the last piece when they fit in one message."""
    if not choices:
        return split_text(text, limit)
    if caption_length(choices) > limit:
        return split_text(f"{text}\n{choices}", limit)
    parts = split_text(text, limit)
    if parts and caption_length(parts[-1]) + 1 + caption_length(choices) <= limit:
        parts[-1] = f"{parts[-1]}\n{choices}"
    else:
        parts.append(choices)
    return parts


def split_text(text: str, limit: int = CAPABILITIES.text_limit) -> list[str]:
    """A text cut into Zalo's messages (2.000 characters), blank pieces left out: Zalo
    refuses an empty text."""
    return splitting.split_text(text, limit)
