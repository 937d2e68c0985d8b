"""The command line's evidence commands: case bundles, checkpoints, checks of the whole store."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

from orders import ledger
from orders.disclosure import SENSITIVE_READERS
from orders.errors import OrderNotFound
from orders.values import Actor, Role
from projections.staff import ALL_DISTRICTS
from service import arguments
from service.bootstrap import Service
from service.bundles import export_bundle
from service.checkpoints import CheckpointRefused
from service.integrity import Finding, verify_store
from service.session import caught_up, opened
from service.terminal import screen
from service.verification import fingerprint, read_public_key, verify_bundle
from service.witnessing import verify_with_witnesses
from service.work import checkpoint_now, witness_now


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
    with_sensitive: Annotated[
        bool,
        typer.Option(
            "--with-sensitive",
            help="Put the sensitive fields (addresses, narratives, positions) in the readable "
            "part; recorded as a disclosure by --by in --role.",
        ),
    ] = False,
    by: Annotated[
        str | None, typer.Option(help="Who exports with sensitive fields (a staff id).")
    ] = None,
    role: Annotated[
        Role, typer.Option(help="The role in which --by asks for the sensitive fields.")
    ] = Role.PROSECUTOR,
) -> None:
    """Write an order's case bundle for a prosecutor; sensitive fields only with --with-sensitive, as a recorded disclosure."""  # noqa: E501
    if with_sensitive and not by:
        raise typer.BadParameter(
            "say who asks for the sensitive fields: --by STAFF_ID (and --role); "
            "the export is recorded as a disclosure",
            param_hint="--by",
        )
    with opened() as service:
        caught_up(service)
        actor = entitled(service, by, role, order_id) if with_sensitive and by else None
        if service.settings.witness_urls:
            countersigned(service)
        bundle = export_bundle(service.orders, service.timelines, order_id, sensitive_for=actor)
    text = json.dumps(bundle, indent=1)
    damaged = sum(1 for e in bundle["events"] if e.get("undecodable"))
    if str(out) == "-":
        screen.result(text)
    else:
        out.write_text(text, encoding="utf-8")
        screen.say(
            f"wrote {len(bundle['events'])} events of order {order_id} to {out}"
            + (f"; {damaged} could not be decoded and are marked so" if damaged else "")
            + ("; sensitive fields included, disclosure recorded" if actor else "")
        )


def countersigned(service: Service) -> None:
    """Sign a checkpoint over what is new and have the witnesses countersign it, so that the
    bundle about to be written carries their countersignature (a refusal is kept and raised
    as an alarm by the calls themselves; the bundle then shows what holds)."""
    with contextlib.suppress(CheckpointRefused):
        checkpoint_now(service)
    for outcome in witness_now(service):
        screen.say(str(outcome))


def entitled(service: Service, staff_id: str, role: Role, order_id: UUID) -> Actor:
    """Who asks for the sensitive fields, if the directory shows them entitled: enrolled in
    that role, a role that may see them, covering the order's district."""
    member = service.staff.get(staff_id)
    if member is None:
        raise typer.BadParameter(
            "no member of staff by that id is in the directory; enrol them (POST /staff) or "
            "give the id of who asks",
            param_hint="--by",
        )
    if member["role"] != role.value:
        raise typer.BadParameter(
            f"that member of staff is enrolled as {member['role']}; give that role",
            param_hint="--role",
        )
    if role not in SENSITIVE_READERS:
        allowed = ", ".join(sorted(r.value for r in SENSITIVE_READERS))
        raise typer.BadParameter(
            f"a {role.value} may not see sensitive fields (only: {allowed}); export without "
            "--with-sensitive",
            param_hint="--role",
        )
    try:
        district = service.orders.get(order_id).request.district
    except OrderNotFound:
        raise
    except Exception:  # a damaged order: its district cannot be shown
        raise typer.BadParameter(
            "the order cannot be read to check its district; export without --with-sensitive",
            param_hint="ORDER_ID",
        ) from None
    if not {district, ALL_DISTRICTS} & set(member["districts"]):
        raise typer.BadParameter(
            "that member of staff does not cover the order's district", param_hint="--by"
        )
    return Actor(staff_id, role)


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
    trusted_key: Annotated[
        list[Path] | None,
        arguments.key_files(
            "--trusted-key",
            "A file holding the service's public key (raw, base64 or hex), as printed by "
            "`protection-orders public-key`; repeatable.",
        ),
    ] = None,
    fingerprint_: Annotated[
        list[str] | None,
        typer.Option(
            "--fingerprint",
            help="The SHA-256 (hex) of the service's public key; repeatable.",
        ),
    ] = None,
    witness_key: Annotated[
        list[Path] | None,
        arguments.key_files(
            "--witness-key",
            "A file holding a witness's public key, as printed by `protection-orders "
            "witness public-key` at the witness; the checkpoint must be countersigned by one "
            "of them; repeatable.",
        ),
    ] = None,
) -> None:
    """Check a case bundle offline against trusted keys; the first line is the verdict: VERIFIED (0), NOT VERIFIED (1), UNVERIFIED SIGNER (2: no trusted key given)."""  # noqa: E501
    keys = _keys(trusted_key, "--trusted-key")
    witnesses = _keys(witness_key, "--witness-key")
    try:
        checked = verify_bundle(
            json.loads(bundle.read_text(encoding="utf-8")),
            trusted_keys=keys,
            fingerprints=fingerprint_ or [],
            witness_keys=witnesses,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise typer.BadParameter(
            f"{bundle} cannot be read as a case bundle ({type(e).__name__}); "
            "ask for the file `protection-orders export` wrote",
            param_hint="BUNDLE",
        ) from None
    screen.result(checked.verdict, style="bold" if checked.verified else "bold red")
    for finding in checked.findings:
        screen.result(str(finding), style=None if finding.holds else "bold red")
    failed = sum(not f.holds for f in checked.findings)
    screen.say(f"{len(checked.findings) - failed} hold, {failed} fail")
    if checked.exit_code:
        raise typer.Exit(checked.exit_code)


def _keys(paths: list[Path] | None, option: str) -> list[bytes]:
    try:
        return [read_public_key(path.read_bytes()) for path in paths or []]
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint=option) from None


def public_key() -> None:
    """Print the service's public key (base64) and its SHA-256 fingerprint, for `verify`."""
    # Save the output to a file for `verify --trusted-key FILE`, or give the fingerprint to
    # `verify --fingerprint HEX`; hand either to prosecutors by another channel than the bundle.
    with opened() as service:
        key = service.orders.signer.public_key()
    screen.result(ledger.b64(key))
    screen.result(f"sha256 fingerprint: {fingerprint(key)}")


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
    witness: Annotated[
        list[str] | None,
        typer.Option(
            "--witness",
            metavar="URL",
            help="A witness's URL: the store must hold what it countersigned last (a rollback "
            "shows); repeatable.",
        ),
    ] = None,
    witness_key: Annotated[
        list[Path] | None,
        arguments.key_files(
            "--witness-key",
            "A file holding the witness's public key; without it, the key the witness "
            "serves is used. Repeatable, in the order of --witness.",
        ),
    ] = None,
) -> None:
    """Check every stored event's seal and chain, and the log against the latest checkpoint (and against witnesses)."""  # noqa: E501
    urls, keys = witness or [], _keys(witness_key, "--witness-key")
    if len(keys) > len(urls):
        raise typer.BadParameter("give one --witness URL per --witness-key", param_hint="--witness")
    with opened() as service, screen.working("checking every event's seal and chain"):
        findings = (
            verify_with_witnesses(
                service.orders,
                [(url, keys[i] if i < len(keys) else None) for i, url in enumerate(urls)],
                timeout=service.settings.witness_timeout_seconds,
            )
            if urls
            else verify_store(service.orders)
        )
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
