"""The command and action registry: a capability declares its commands and buttons once, and /help (per role),
the Telegram command menu and the core's dispatch all follow; typed callback data, collision-checked."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from typing import ClassVar

import pytest

from bot.app import build_app
from handlers.registry import (
    CHAIRS,
    ActionPrefix,
    Callback,
    Command,
    Declaration,
    Registry,
    RegistryError,
)
from handlers.types import Choice, Incoming, Outcome, Reply
from locales import LOCALES_DIR, Translator
from tests.integration.test_membership import Account, linked

TOKEN = "4242:DUMMY"


# ----- a dummy capability, as a new module would declare it ---------------------------------------------------
@dataclass(frozen=True)
class ShiftButton(Callback):
    prefix: ClassVar[str] = "ca"
    shift: int


class Shifts:
    """Answers /lichca with two buttons; a press says which shift was chosen."""

    def __init__(self) -> None:
        self.pressed: list[int] = []

    async def show(self, incoming: Incoming, arg: str, lang: str) -> Outcome:
        buttons = tuple(Choice(f"Ca {n}", ShiftButton(n).encode()) for n in (1, 2))
        return Outcome([Reply(f"lich ca {arg or 'tuan nay'}", buttons)], "shifts", 1.0, False)

    async def press(self, incoming: Incoming, data: str, lang: str) -> Outcome:
        button = ShiftButton.decode(data)
        self.pressed.append(button.shift)
        return Outcome([Reply(f"da chon ca {button.shift}")], "shifts", 1.0, False)


SHIFTS = Declaration(
    "shifts",
    commands=(Command("lichca", "shifts", lambda s, i, arg, lang: s.show(i, arg, lang)),
              Command("doica", "swap_shift", lambda s, i, arg, lang: s.show(i, arg, lang), CHAIRS, menu=False)),
    actions=(ActionPrefix("ca", lambda s, i, data, lang: s.press(i, data, lang)),),
    callbacks=(ShiftButton,))

STRINGS = {
    "vi": ["commands.lichca: Lịch ca làm việc", "command_help.lichca: \"• /lichca — lịch ca, ví dụ /lichca tuần sau\"",
           "command_help.doica: \"• /doica — đổi ca cho đoàn viên (Chủ tịch), ví dụ /doica NTL-0103\""],
    "en": ["commands.lichca: Work shifts", "command_help.lichca: \"• /lichca — the shifts, e.g. /lichca next week\"",
           "command_help.doica: \"• /doica — swap a member's shift (chairs), e.g. /doica NTL-0103\""],
}


@pytest.fixture
def translator(tmp_path) -> Translator:
    """The project's locales plus the dummy capability's lines (what adding a command adds to them)."""
    directory = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, directory, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for lang, lines in STRINGS.items():
        with (directory / f"{lang}.yaml").open("a", encoding="utf-8") as f:
            f.write("\n" + "\n".join(lines) + "\n")
    return Translator(directory)


@pytest.fixture
async def shifts_app(settings, clock, translator):
    shifts = Shifts()
    application = await build_app(settings, clock=clock, translator=translator, extra=[(SHIFTS, shifts)])
    application.shifts = shifts
    yield application
    await application.close()


async def test_a_registered_capability_is_in_help_dispatch_and_buttons(shifts_app):
    member = Account(shifts_app, "901")
    help_text = await whole(member)
    assert "/lichca — lịch ca, ví dụ /lichca tuần sau" in help_text
    assert "/doica" not in help_text  # a chair's command: not shown to a member
    assert await member.says("/lichca tuan sau") == "lich ca tuan sau"
    assert [c.action for c in member.replies[0].choices] == ["ca:1", "ca:2"]
    assert await member.presses("ca:2") == "da chon ca 2"
    assert shifts_app.shifts.pressed == [2]
    assert await member.says("/shifts") == "lich ca tuan nay"  # the English name works too
    chair = await linked(shifts_app, "NTL-0101", "902")
    assert "/doica — đổi ca cho đoàn viên" in await whole(chair)


async def test_a_registered_command_is_in_the_telegram_command_menu(shifts_app):
    from bot.channels.telegram import TelegramChannel
    from tests.fakes.telegram_server import FakeTelegram

    async with FakeTelegram.running(token=TOKEN) as fake:
        channel = TelegramChannel(shifts_app.core, shifts_app.db, shifts_app.translator, TOKEN,
                                  api_url=fake.base_url)
        try:
            await channel.prepare()
        finally:
            await channel.bot.session.close()
        vi = {c["command"]: c["description"] for c in fake.commands[("default", "")]}
        en = {c["command"]: c["description"] for c in fake.commands[("default", "en")]}
    assert vi["lichca"] == "Lịch ca làm việc" and en["lichca"] == "Work shifts"
    assert "doica" not in vi  # declared menu=False: in /help only
    assert {"start", "help", "menu", "lienket", "hotro", "duyet", "thongbao"} <= set(vi)


# ----- /help by role ------------------------------------------------------------------------------------------
async def whole(account, text: str = "/help") -> str:
    """What ``text`` answers, every page: the first, then each "xem thêm" (a phone shows ≤ 6 lines at a time)."""
    pages = [await account.says(text)]
    while more := next((c.action for r in account.replies for c in r.choices if c.action.startswith("more:")), None):
        pages.append(await account.presses(more))
    return "\n".join(pages)


async def whole_incoming(app, incoming: Incoming) -> str:
    replies = await app.core.handle(incoming)
    pages = [r.text for r in replies]
    while more := next((c.action for r in replies for c in r.choices if c.action.startswith("more:")), None):
        replies = await app.core.handle(replace(incoming, text="", action=more))
        pages += [r.text for r in replies]
    return "\n".join(pages)


CHAIR_ONLY = ("/duyet", "/thongbao ", "/capma", "/donvi", "/thongbao_ketqua", "/thongbao_huy", "/nhacnho_them")


async def test_help_shows_each_role_its_commands_with_an_example(app):
    guest = Account(app, "911")
    text = await whole(guest)
    for line in ("/lienket MÃ", "/hotro", "/hoso", "/toi", "/nhacnho"):
        assert line in text
    for command in CHAIR_ONLY:
        assert command not in text, command
    member = await linked(app, "NTL-0103", "912")
    assert "/duyet" not in await whole(member)
    chair = await linked(app, "NTL-0101", "913")
    text = await whole(chair)
    for command in CHAIR_ONLY:
        assert command in text, command
    lines = [line for line in text.splitlines() if line.startswith("• /")]
    assert lines and all("ví dụ /" in line for line in lines)  # every command with one example
    # the commands that need an id say where the id comes from
    assert "mã mục là" in text and "số thông báo là số bot báo" in text and "danh sách đoàn viên" in text
    admin = await linked(app, "DEMO-ADMIN", "914")
    text = await whole(admin, "huong dan")  # the words work too
    assert all(command in text for command in CHAIR_ONLY)


async def test_help_in_english_and_in_a_group(app):
    text = await whole_incoming(app, Incoming(channel="telegram", chat_id="916", user_id="916", text="/help",
                                              language="en"))
    assert "Commands you can use:" in text and "e.g. /lienket ABCD-EFGH" in text
    await linked(app, "NTL-0101", "917")
    text = await whole_incoming(app, Incoming(channel="telegram", chat_id="-100", user_id="917", text="/help",
                                              is_group=True))
    assert "/hotro" in text and "/duyet" not in text  # a chair's commands not shown to all


# ----- the registry's rules -----------------------------------------------------------------------------------
async def _none(*args) -> None:
    return None


def test_names_and_prefixes_are_collision_checked():
    registry = Registry()
    registry.add(Declaration("a", commands=(Command("xem", "view", _none),), actions=(ActionPrefix("x", _none),)),
                 object())
    with pytest.raises(RegistryError, match="/view"):
        registry.add(Declaration("b", commands=(Command("nhin", "view", _none),)), object())
    with pytest.raises(RegistryError, match="'x'"):
        registry.add(Declaration("c", actions=(ActionPrefix("x", _none),)), object())
    with pytest.raises(RegistryError, match="not a valid command name"):
        registry.add(Declaration("d", commands=(Command("Xem-2", "v2", _none),)), object())
    with pytest.raises(RegistryError, match="/twice"):
        registry.add(Declaration("h", commands=(Command("twice", "t1", _none), Command("twice", "t2", _none))),
                     object())
    with pytest.raises(RegistryError, match="holds ':'"):
        registry.add(Declaration("i", actions=(ActionPrefix("y:z", _none),)), object())
    with pytest.raises(RegistryError, match="under no action"):
        registry.add(Declaration("e", callbacks=(ShiftButton,)), object())
    assert registry.command("nhin") is None  # a refused declaration registers nothing
    registry.add(Declaration("f", actions=(ActionPrefix("ca", _none),), callbacks=(ShiftButton,)), object())
    with pytest.raises(RegistryError, match="callback prefix 'ca'"):
        registry.add(Declaration("g", actions=(ActionPrefix("cb", _none),), callbacks=(ShiftButton,)), object())


@dataclass(frozen=True)
class EntryButton(Callback):
    prefix: ClassVar[str] = "kbx"
    page: int
    entry_id: str


def test_callback_data_round_trips_and_stays_within_64_bytes():
    assert EntryButton(3, "sua-ha-lan:2").encode() == "kbx:3:sua-ha-lan:2"  # the last field may hold ':'
    assert EntryButton.decode("kbx:3:sua-ha-lan:2") == EntryButton(3, "sua-ha-lan:2")
    for bad in ("kbx:x:sua", "kbx:3", "kb:3:sua", "kbxy:3:sua", "kbx:-1:a", "kbx:١:a"):
        assert EntryButton.decode(bad) is None, bad
    assert len(EntryButton(1, "a" * 58).encode()) == 64  # 64 bytes exactly
    with pytest.raises(RegistryError, match="64 bytes"):
        EntryButton(1, "a" * 59).encode()
    with pytest.raises(RegistryError, match="64 bytes"):
        EntryButton(1, "đ" * 30).encode()  # bytes, not characters
    with pytest.raises(RegistryError, match="holds ':'"):
        ColonFirst("a:b", "c").encode()  # only the last field may hold the separator


@dataclass(frozen=True)
class ColonFirst(Callback):
    prefix: ClassVar[str] = "cf"
    first: str
    last: str


async def test_every_button_the_bot_shows_is_declared_and_fits_telegram(app):
    """Buttons of the menu, a listing, an entry, a linked chair's review list: each one's callback data is
    claimed by a declared action prefix and is at most 64 bytes."""
    registry = app.core.registry
    chair = await linked(app, "NTL-0101", "921")
    seen: list[str] = []
    for step in ("/help", "menu:benefit", "menu:programme", "/duyet", "/toi", "/thongbao",
                 "Họp công đoàn chiều thứ sáu", "/huy", "/hotro"):
        await (chair.presses(step) if ":" in step else chair.says(step))
        seen.extend(c.action for r in chair.replies for c in r.choices)
    for action in [a for a in seen if a.startswith("kb:")][:3]:
        await chair.presses(action)
        seen.extend(c.action for r in chair.replies for c in r.choices)
    assert {a.split(":")[0] for a in seen} >= {"menu", "kb", "bc", "hs", "member"}
    for action in seen:
        assert registry.action(action) is not None, action
        assert len(action.encode()) <= 64, action


async def test_help_puts_first_what_this_member_needs_and_nothing_they_cannot_use(app):
    """A linked member's first /help page shows the support request and its status; /lienket (already linked) is
    not offered, /huylienket is offered only to a linked account; a chair is not told to contact a union officer."""
    guest = Account(app, "921")
    text = await whole(guest)
    assert "/lienket MÃ" in text and "/huylienket" not in text
    assert app.translator("help.contact") in text
    member = await linked(app, "NTL-0103", "922")
    first = await member.says("/help")
    assert "/hotro" in first and "/hoso" in first, first
    text = await whole(member)
    assert "/lienket" not in text.replace("/huylienket", "") and "/huylienket" in text
    chair = await linked(app, "NTL-0101", "923")
    text = await whole(chair)
    assert app.translator("help.contact") not in text
