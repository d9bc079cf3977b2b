"""The commands' output for designers and administrators: English, then the same in Chinese where the
translation catalogue has it (the CLI has no Accept-Language to choose one; the people at the center read
Chinese, the logs and bug reports read English)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import click
from flask_babel import force_locale

#: the center's language beside English (msgids are English; translations live in api/translations)
CHINESE = "zh_Hans_CN"


def both(render: Callable[[], str]) -> str:
    """The text in English, then on the next line in Chinese (once if they are the same); ``render`` is
    called once per language, inside that language's locale."""
    with force_locale("en"):
        english = render()
    with force_locale(CHINESE):
        chinese = render()
    return english if chinese == english else f"{english}\n{chinese}"


def say(render: Callable[[], str], *, err: bool = False) -> None:
    click.echo(both(render), err=err)


def shown(path: Path) -> str:
    """A path as the designer typed it: relative to the working directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
