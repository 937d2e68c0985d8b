"""`protection-orders witness ...`: the witness's own commands (witness.cli), and `send`, which
the service runs to have its latest checkpoint countersigned now."""

from __future__ import annotations

import typer

from service.session import opened
from service.settings import PREFIX, SettingsError
from service.terminal import screen
from service.work import witness_now
from witness.cli import commands

app = commands()


@app.command()
def send() -> None:
    """Send the latest checkpoint to each witness (PROTECTION_ORDERS_WITNESS_URLS) now; exit 1 if one refuses it."""  # noqa: E501
    with opened() as service:
        if not service.settings.witness_urls:
            raise SettingsError(
                f"{PREFIX}WITNESS_URLS is not set: name the witnesses' URLs, separated by commas"
            )
        outcomes = witness_now(service)
    for outcome in outcomes:
        screen.result(str(outcome), style="bold red" if outcome.refused else None)
    if not outcomes:
        screen.say("no checkpoint signed yet: run `protection-orders checkpoint` first")
    if any(outcome.refused for outcome in outcomes):
        raise typer.Exit(1)
