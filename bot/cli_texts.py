"""The command line's own words in the CLI's language: what typer and the click it carries print themselves.

Typer (from 0.2x) vendors its own click, whose help and error texts are English f-strings, not gettext
messages, so a translation catalogue cannot reach them. Two hooks reach all of them instead:

- help: a ``HelpFormatter`` that translates each piece before it is laid out (the usage line, the section
  headings, every row's type tag, "[default: …]", "[required]" and the help option's line), so the columns stay
  aligned; every command and group gets it through its context class (``TranslatedGroup``/``TranslatedCommand``);
- usage errors: ``run`` calls the app with ``standalone_mode=False`` and shows a ``UsageError`` itself, its
  message rebuilt from the exception's kind and fields (never click's English sentence).

The words are in ``locales/*.yaml`` under ``cli_click``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer import _click
from typer._click import exceptions as errors
from typer.core import TyperCommand, TyperGroup

from locales import DEFAULT_LANGUAGE, Translator

__all__ = ["TranslatedCommand", "TranslatedGroup", "run", "use"]

_translator: Translator | None = None
_TYPE_TAG = re.compile(r"<([^<>]+)>")
_EXTRA = re.compile(r"\s*\[([^\[\]]+)\]$")  # "[default: xlsx; required]" at the end of a row's help


def use(translator: Translator) -> None:
    """The translator the CLI's own words come from (the CLI's: the tables are read once)."""
    global _translator
    _translator = translator


def _w(key: str, **values: object) -> str:
    global _translator
    if _translator is None:
        _translator = Translator()
    return _translator(f"cli_click.{key}", DEFAULT_LANGUAGE, **values)


def _known(key: str) -> str | None:
    try:
        return _w(key)
    except KeyError:
        return None


def _type_tag(match: re.Match[str]) -> str:
    """"<str>" -> "<văn bản>", "<list[Path]>" -> "<đường dẫn>", "<int range>" -> "<số>"; an unknown tag: "<giá trị>"."""
    label = match.group(1).strip()
    inner = re.fullmatch(r"list\[(.+)\]", label)
    label = (inner.group(1) if inner else label).split()[0].lower()
    return f"<{_known(f'type.{label}') or _w('type.value')}>"


def _extra(text: str) -> str:
    """The bracket typer appends to a row's help, its parts translated ("default: x" -> "mặc định: x")."""
    parts = []
    for part in text.split("; "):
        if part == "required":
            parts.append(_w("required"))
        elif part.startswith("default: "):
            parts.append(_w("default", default=part.removeprefix("default: ")))
        elif part.startswith("env var: "):
            parts.append(_w("env_var", var=part.removeprefix("env var: ")))
        else:  # a number range ("x>=1"): no words to translate
            parts.append(part)
    return "[" + "; ".join(parts) + "]"


def _definition(text: str) -> str:
    if text == "Show this message and exit.":
        return _w("help_option")
    return _EXTRA.sub(lambda m: ("  " if m.start() else "") + _extra(m.group(1)), text)


def _usage_args(args: str) -> str:
    return (args.replace("[OPTIONS]", _w("usage.options")).replace("COMMAND", _w("usage.command"))
            .replace("[ARGS]...", _w("usage.args")))


class TranslatedFormatter(_click.HelpFormatter):
    """Lays out help with typer's and click's own words translated first."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, _usage_args(args), _w("usage.prefix") + " " if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        super().write_heading(_known(f"heading.{heading.lower()}") or heading)

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        super().write_dl([(_TYPE_TAG.sub(_type_tag, term), _definition(text)) for term, text in rows],
                         col_max, col_spacing)


class TranslatedContext(typer.Context):
    formatter_class = TranslatedFormatter


class TranslatedCommand(TyperCommand):
    context_class = TranslatedContext


class TranslatedGroup(TyperGroup):
    context_class = TranslatedContext


def _hint(exc: errors.BadParameter) -> str:
    if exc.param_hint is not None:
        hints = [exc.param_hint] if isinstance(exc.param_hint, str) else list(exc.param_hint)
        return " / ".join(f"'{h}'" for h in hints)
    return exc.param.get_error_hint() if exc.param is not None else ""


def message(exc: errors.ClickException) -> str:
    """The error in the CLI's language, from the exception's kind and fields."""
    if isinstance(exc, errors.NoSuchOption):
        text = _w("error.no_such_option", name=exc.option_name)
        if exc.possibilities:
            text += " " + _w("error.did_you_mean", possibilities=", ".join(sorted(exc.possibilities)))
        return text
    if isinstance(exc, errors.MissingParameter):
        kind = exc.param_type or (exc.param.param_type_name if exc.param is not None else "parameter")
        return _w(f"error.missing_{kind if kind in ('option', 'argument') else 'parameter'}", name=_hint(exc))
    if isinstance(exc, errors.BadParameter):
        return _w("error.bad_value", name=_hint(exc))
    if isinstance(exc, errors.BadOptionUsage):
        key = "error.option_takes_no_value" if "does not take" in exc.message else "error.option_needs_value"
        return _w(key, name=exc.option_name)
    if isinstance(exc, errors.FileError):
        return _w("error.file", name=exc.ui_filename)
    text = exc.message
    if (extra := re.fullmatch(r"Got unexpected extra arguments? ?(?:\(s\))? \((.*)\)", text)) is not None:
        return _w("error.extra_arguments", args=extra.group(1))
    if (command := re.fullmatch(r"No such command '(.*)'\.", text)) is not None:
        return _w("error.no_such_command", name=command.group(1))
    if text == "Missing command.":
        return _w("error.missing_command")
    return _w("error.usage")


def show(exc: errors.ClickException) -> None:
    """What click's ``show`` prints (usage, where to find help, the error), in the CLI's language."""
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        lines = [ctx.get_usage()]
        if ctx.command.get_help_option(ctx) is not None:
            lines.append(_w("try_help", command=ctx.command_path, option=ctx.help_option_names[0]))
        print("\n".join(lines) + "\n", file=sys.stderr)
    print(_w("error.prefix", message=message(exc)), file=sys.stderr)


def run(app: typer.Typer, args: Sequence[str] | None = None) -> int:
    """Run the command line; the exit code (2: a usage error, 1: aborted or the command failed)."""
    try:
        result: Any = app(args=args, standalone_mode=False)
    except errors.ClickException as exc:
        show(exc)
        return exc.exit_code
    except typer.Abort:
        print(_w("aborted"), file=sys.stderr)
        return 1
    return result if isinstance(result, int) else 0
