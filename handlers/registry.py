"""The command and action registry: what each capability offers, declared once, where the capability lives.

A capability module ends with a small ``DECLARATION`` block: its commands (the Vietnamese name, the English
one, more aliases, the roles that see it in /help, whether it is in the platform's command menu) and its
action prefixes (the first field of a button's callback data). The core dispatches commands and button
presses from the registry; /help (per role) and the Telegram command menu are built from it; the strings
are in the locales (``commands.<name>``: the short description of the menu, ``command_help.<name>``: the
help line with one example). Adding a command is a change in one capability module and the locales.

Callback data is typed: a ``Callback`` subclass names its prefix and its fields; ``encode`` and ``decode``
are the one place a button's action string is written and read (``"req:view:12"``), and the registry
refuses two capabilities claiming one prefix and any callback data over Telegram's 64 bytes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar

from handlers.types import Incoming, Outcome
from locales import Translator
from nlu.normalize import fold
from services.authz import PRIVILEGED_ROLES

#: Telegram's limit on a button's callback_data, in bytes (UTF-8)
MAX_CALLBACK_BYTES = 64

Role = Literal["member", "chair", "admin"]
ROLES: tuple[Role, ...] = ("member", "chair", "admin")
EVERYONE: frozenset[Role] = frozenset(ROLES)
CHAIRS: frozenset[Role] = frozenset({"chair", "admin"})
ADMINS: frozenset[Role] = frozenset({"admin"})

#: a command's handler: (the capability object, the event, the text after the command, the language)
CommandRun = Callable[[Any, Incoming, str, str], Awaitable[Outcome | None]]
#: a flow's handler: (the capability object, the event, the conversation state, the language)
FlowRun = Callable[[Any, Incoming, Any, str], Awaitable[Outcome | None]]
#: an action's handler: (the capability object, the event, the whole action string, the language)
ActionRun = Callable[[Any, Incoming, str, str], Awaitable[Outcome | None]]


class RegistryError(ValueError):
    """Two capabilities claim one command name or action prefix, or callback data cannot be encoded."""


# ----- typed callback data -------------------------------------------------------------------------------
C = TypeVar("C", bound="Callback")
SEPARATOR = ":"


@dataclass(frozen=True)
class Callback:
    """Typed callback data. Subclasses are frozen dataclasses with a ``prefix`` and str/int fields::

        @dataclass(frozen=True)
        class ViewRequest(Callback):
            prefix: ClassVar[str] = "req:view"
            request_id: int

        ViewRequest(12).encode() == "req:view:12"; ViewRequest.decode("req:view:12") == ViewRequest(12)

    The last field may contain the separator (a knowledge entry's id); the others may not.
    """

    prefix: ClassVar[str] = ""

    def encode(self) -> str:
        values = [str(getattr(self, f.name)) for f in dataclasses.fields(self)]
        for value in values[:-1]:
            if SEPARATOR in value:
                raise RegistryError(f"{self.prefix}: a field holds '{SEPARATOR}'")
        data = SEPARATOR.join([self.prefix, *values])
        if len(data.encode()) > MAX_CALLBACK_BYTES:
            raise RegistryError(f"{self.prefix}: callback data over {MAX_CALLBACK_BYTES} bytes")
        return data

    @classmethod
    def matches(cls, data: str) -> bool:
        return data == cls.prefix or data.startswith(cls.prefix + SEPARATOR)

    @classmethod
    def decode(cls: type[C], data: str) -> C | None:
        """The callback data as this type, or None when it is not one (another prefix, a bad field)."""
        if not cls.matches(data):
            return None
        fields = dataclasses.fields(cls)
        rest = data[len(cls.prefix) + 1:] if len(data) > len(cls.prefix) else ""
        parts = rest.split(SEPARATOR, len(fields) - 1) if fields else ([] if not rest else None)
        if parts is None or len(parts) != len(fields):
            return None
        values: dict[str, object] = {}
        for f, part in zip(fields, parts, strict=True):
            if f.type in (int, "int"):
                if not part.isascii() or not part.isdigit() or len(part) > 18:
                    return None
                values[f.name] = int(part)
            else:
                values[f.name] = part
        return cls(**values)


# ----- declarations --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Command:
    """A chat command. ``name`` is the Vietnamese name (the one shown), ``en`` the English one; both work."""

    name: str
    en: str
    run: CommandRun
    roles: frozenset[Role] = EVERYONE
    aliases: tuple[str, ...] = ()
    #: in the platform's command menu (Telegram setMyCommands); the others are listed in /help only
    menu: bool = True
    #: listed in /help (the help commands themselves are not)
    listed: bool = True
    #: who sees it in /help: None everyone; True only a linked account (/huylienket), False only one not yet
    #: linked (/lienket); it works for everyone alike
    linked: bool | None = None
    #: a member's commands listed first in /help (what someone in difficulty looks for: /hotro, /hoso)
    first: bool = False
    #: a typed sentence (folded: no diacritics, lower case) that asks for what this command gives ("đề nghị
    #: của tôi đến đâu rồi" is /hoso): the capability's own rule, read by the core before it refuses a question
    asked: Callable[[str], bool] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.name, self.en, *self.aliases)))


@dataclass(frozen=True)
class ActionPrefix:
    """Button presses whose callback data starts with ``prefix`` ("req" takes "req:view:12", "req:approve:3")."""

    prefix: str
    run: ActionRun
    #: a press while the chat's state is "done" (a step that happens once, handlers/once.py) is answered by the
    #: core ("đã gửi rồi") when it repeats that step, before the capability sees it; a predicate: for some data
    after_done: bool | Callable[[str], bool] = False

    def repeats_done(self, data: str) -> bool:
        return self.after_done(data) if callable(self.after_done) else self.after_done


@dataclass(frozen=True)
class Flow:
    """A multi-step conversation: the state's ``flow`` name and what handles the next message in it."""

    name: str
    run: FlowRun


@dataclass(frozen=True)
class Declaration:
    """What one capability offers; ``name`` is the key the composition root binds its object to."""

    name: str
    commands: tuple[Command, ...] = ()
    actions: tuple[ActionPrefix, ...] = ()
    flows: tuple[Flow, ...] = ()
    #: the callback types its buttons carry: checked for prefix collisions at registration
    callbacks: tuple[type[Callback], ...] = ()


@dataclass
class Registry:
    """Declarations bound to their capability objects; built by the composition root, read by the core and
    the adapters."""

    _commands: dict[str, tuple[Command, Any]] = field(default_factory=dict)
    _actions: dict[str, tuple[ActionPrefix, Any]] = field(default_factory=dict)
    _callbacks: dict[str, type[Callback]] = field(default_factory=dict)
    _flows: dict[str, tuple[Flow, Any]] = field(default_factory=dict)
    _order: list[Command] = field(default_factory=list)

    def add(self, declaration: Declaration, capability: Any) -> None:
        """Bind a declaration to its object; nothing is registered when one of its names is taken or invalid."""
        seen: set[str] = set()
        prefixes: set[str] = set()
        for command in declaration.commands:
            for name in command.names:
                if not name.isascii() or not name.replace("_", "").isalnum() or name != name.lower() or \
                        len(name) > 32:
                    raise RegistryError(f"{declaration.name}: command '/{name}' is not a valid command name")
                if name in self._commands or name in seen:
                    raise RegistryError(f"{declaration.name}: command '/{name}' is already registered")
                seen.add(name)
        for action in declaration.actions:
            if not action.prefix or SEPARATOR in action.prefix:
                raise RegistryError(f"{declaration.name}: action prefix '{action.prefix}' is empty or holds ':'")
            if action.prefix in self._actions or action.prefix in prefixes:
                raise RegistryError(f"{declaration.name}: action prefix '{action.prefix}' is already registered")
            prefixes.add(action.prefix)
        for flow in declaration.flows:
            if flow.name in self._flows:
                raise RegistryError(f"{declaration.name}: flow '{flow.name}' is already registered")
        for callback in declaration.callbacks:
            owner = callback.prefix.split(SEPARATOR, 1)[0]
            if callback.prefix in self._callbacks:
                raise RegistryError(f"{declaration.name}: callback prefix '{callback.prefix}' is already registered")
            if owner not in {a.prefix for a in declaration.actions}:
                raise RegistryError(f"{declaration.name}: callback '{callback.prefix}' is under no action it declares")
        for command in declaration.commands:
            self._order.append(command)
            for name in command.names:
                self._commands[name] = (command, capability)
        for action in declaration.actions:
            self._actions[action.prefix] = (action, capability)
        for flow in declaration.flows:
            self._flows[flow.name] = (flow, capability)
        for callback in declaration.callbacks:
            self._callbacks[callback.prefix] = callback

    # ----- dispatch --------------------------------------------------------------------------------------
    def command(self, name: str) -> Command | None:
        found = self._commands.get(name)
        return found[0] if found else None

    async def run_command(self, name: str, incoming: Incoming, arg: str, lang: str) -> Outcome | None:
        """The command's outcome; None for an unknown command (read as text) or a handler that passes."""
        found = self._commands.get(name)
        if found is None:
            return None
        command, capability = found
        return await command.run(capability, incoming, arg, lang)

    async def run_action(self, data: str, incoming: Incoming, lang: str) -> Outcome | None:
        """The outcome of a button press, by the prefix of its callback data; None when nobody claims it."""
        found = self._actions.get(data.partition(SEPARATOR)[0])
        if found is None:
            return None
        action, capability = found
        return await action.run(capability, incoming, data, lang)

    def action(self, data: str) -> ActionPrefix | None:
        found = self._actions.get(data.partition(SEPARATOR)[0])
        return found[0] if found else None

    def has_flow(self, name: str) -> bool:
        return name in self._flows

    async def run_flow(self, state: Any, incoming: Incoming, lang: str) -> Outcome | None:
        """The next step of the conversation ``state`` is in; None when no capability owns its flow."""
        found = self._flows.get(state.flow)
        if found is None:
            return None
        flow, capability = found
        return await flow.run(capability, incoming, state, lang)

    # ----- what the members see ---------------------------------------------------------------------------
    def commands(self) -> list[Command]:
        return list(self._order)

    def visible(self, roles: Iterable[Role]) -> list[Command]:
        """The commands someone with these roles sees, in registration order."""
        have = set(roles)
        return [c for c in self._order if c.roles & have]

    def command_asked(self, text: str) -> str | None:
        """The command a typed sentence asks for (its ``asked`` rule, on the folded text), or None."""
        words = fold(text or "").strip()
        return next((c.name for c in self._order if c.asked is not None and words and c.asked(words)), None)

    def help_lines(self, t: Translator, lang: str, roles: Iterable[Role], linked: bool = False) -> list[str]:
        """One line per visible command: "/name — what it does, e.g. /name ARG" (from ``command_help.<name>``); a
        chair's or an admin's own commands first, then the members' ``first`` ones (on a phone the first page is
        the one that gets read), after one line naming them all; a command for linked (or unlinked) accounts only is
        left out for the others."""
        shown = sorted((c for c in self.visible(roles) if c.listed and c.linked in (None, linked)),
                       key=lambda c: ("member" in c.roles, not c.first))
        lines = [t(f"command_help.{c.name}", lang) for c in shown]
        if len(shown) > 1:  # every name on the first page (the detail lines run on to "Xem thêm")
            lines.insert(0, t("help.all_commands", lang, names=" ".join(f"/{c.name}" for c in shown)))
        return lines

    def menu(self, t: Translator, lang: str, roles: Iterable[Role] = ROLES) -> list[tuple[str, str]]:
        """(command, description) for the platform's command menu: the menu commands these roles see (by
        default every role's: one menu for the whole bot, the chairs' commands marked "(Chủ tịch)")."""
        return [(c.name, t(f"commands.{c.name}", lang)) for c in self.visible(roles) if c.menu]


def roles_of(identity: Any) -> tuple[Role, ...]:
    """The help roles of a linked member's ``Identity`` (or None: a chat not yet linked sees member commands)."""
    if identity is None:
        return ("member",)
    roles: list[Role] = ["member"]
    if any(g.role in PRIVILEGED_ROLES for g in identity.grants):
        roles.append("chair")
    if identity.is_admin:
        roles.extend(("chair", "admin"))
    return tuple(roles)
