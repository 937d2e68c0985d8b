"""The command line's evidence commands: case bundles, checkpoints, checks of the whole store."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

from service import arguments
from service.integrity import Finding, export_bundle, verify_bundle, verify_store
from service.session import caught_up, opened
from service.terminal import screen
from service.work import checkpoint_now


def export(
    order_id: Annotated[
        UUID, typer.Argument(parser=arguments.order_id, metavar="ORDER_ID", help="The order's id.")
    ],
    out: Annotated[
        Path,
        typer.Option(
            callback=arguments.in_a_folder, help="The file to write; - for standard output."
        ),
    ] = Path("-"),
) -> None:
    """Write an order's case bundle for a prosecutor: events, timeline, proofs, checkpoint."""
    with opened() as service:
        bundle = export_bundle(service.orders, caught_up(service).timelines, order_id)
    text = json.dumps(bundle, indent=1)
    if str(out) == "-":
        screen.result(text)
    else:
        out.write_text(text, encoding="utf-8")
        screen.say(f"wrote {len(bundle['events'])} events of order {order_id} to {out}")


def verify(
    bundle: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            metavar="BUNDLE",
            readable=True,
            help="A case bundle written by `export`.",
        ),
    ],
) -> None:
    """Check a case bundle offline, with no database; say per event what holds."""
    try:
        findings = verify_bundle(json.loads(bundle.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise typer.BadParameter(
            f"{bundle} cannot be read as a case bundle ({type(e).__name__}); "
            "ask for the file `protection-orders export` wrote",
            param_hint="BUNDLE",
        ) from None
    for finding in findings:
        screen.result(str(finding), style=None if finding.holds else "bold red")
    _tally(findings)


def checkpoint() -> None:
    """Sign a checkpoint over the log now, if anything is new since the latest."""
    with opened() as service:
        made = checkpoint_now(service)
    screen.say(
        f"checkpoint over {made.size} events signed at {made.signed_at}"
        if made
        else "nothing new since the latest checkpoint"
    )


def verify_store_command(
    show_all: Annotated[
        bool, typer.Option("--all", help="Print what holds too, not only what fails.")
    ] = False,
) -> None:
    """Check every stored event's seal and chain, and the log against the latest checkpoint."""
    with opened() as service, screen.working("checking every event's seal and chain"):
        findings = verify_store(service.orders)
    for finding in findings:
        if show_all or not finding.holds:
            screen.result(str(finding), style=None if finding.holds else "bold red")
    _tally(findings)


def _tally(findings: Sequence[Finding]) -> None:
    """Say how many checks hold and fail; exit 1 if any fails."""
    failed = sum(not f.holds for f in findings)
    screen.say(f"{len(findings) - failed} hold, {failed} fail")
    if failed:
        raise typer.Exit(1)
