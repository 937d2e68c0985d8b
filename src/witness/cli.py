"""The witness's commands: init, serve, public-key, history (`protection-orders witness ...`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from orders import ledger
from witness.api import create_app
from witness.countersign import Witness, iso, utc_now
from witness.keys import fingerprint, read_public_key
from witness.store import NotInitialised, WitnessStore

StoreOption = Annotated[
    Path,
    typer.Option(
        "--store", file_okay=False, help="The witness's directory: its key and its history."
    ),
]


def _service_keys(paths: list[Path]) -> list[bytes]:
    try:
        return [read_public_key(path.read_bytes()) for path in paths]
    except (OSError, ValueError) as e:
        raise typer.BadParameter(
            f"{e}; save the output of `protection-orders public-key` (run at the service) "
            "to a file and pass that",
            param_hint="--service-key",
        ) from None


def _opened(store: Path) -> WitnessStore:
    try:
        return WitnessStore(store)
    except NotInitialised as e:
        raise typer.BadParameter(str(e), param_hint="--store") from None


def _trust(opened: WitnessStore, service_keys: list[bytes]) -> None:
    for key in service_keys:
        added = opened.trust(key, at=iso(utc_now()))
        typer.echo(
            f"{'trusting' if added else 'already trusting'} service key {fingerprint(key)}",
            err=True,
        )


ServiceKeyHelp = (
    "A file holding the service's public key (raw, base64 or hex), as printed by "
    "`protection-orders public-key`; compare its fingerprint with the service's by telephone "
    "or letter; repeatable."
)


def init(
    store: StoreOption,
    service_key: Annotated[
        list[Path], typer.Option("--service-key", dir_okay=False, help=ServiceKeyHelp)
    ],
) -> None:
    """Make a witness store: a new key (mode 0600) and the service keys to trust; print its fingerprint."""  # noqa: E501
    keys = _service_keys(service_key)
    try:
        made = WitnessStore.initialise(store)
    except FileExistsError:
        raise typer.BadParameter(
            f"{store} already holds a witness key; use it (`witness serve`), or choose another "
            "directory",
            param_hint="--store",
        ) from None
    _trust(made, keys)
    typer.echo(ledger.b64(made.public_key))
    typer.echo(f"sha256 fingerprint: {fingerprint(made.public_key)}")


def serve(
    store: StoreOption,
    host: Annotated[str, typer.Option(help="The address the witness listens on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="The port the witness listens on.")
    ] = 8700,
    service_key: Annotated[
        list[Path] | None,
        typer.Option("--service-key", dir_okay=False, help="Trust this key too. " + ServiceKeyHelp),
    ] = None,
) -> None:
    """Run the witness's HTTP API until SIGTERM or Ctrl-C: it countersigns or refuses checkpoints."""  # noqa: E501
    opened = _opened(store)
    _trust(opened, _service_keys(service_key or []))
    if not opened.trusted_keys():
        raise typer.BadParameter(
            "this witness trusts no service key yet: pass --service-key FILE", param_hint="--store"
        )
    typer.echo(
        f"witness {fingerprint(opened.public_key)} serving on http://{host}:{port}; "
        "SIGTERM or Ctrl-C stops",
        err=True,
    )
    uvicorn.run(create_app(Witness(opened)), host=host, port=port, log_level="warning")
    typer.echo("stopped", err=True)


def public_key(store: StoreOption) -> None:
    """Print the witness's public key (base64) and its fingerprint, for `verify --witness-key`."""
    key = _opened(store).public_key
    typer.echo(ledger.b64(key))
    typer.echo(f"sha256 fingerprint: {fingerprint(key)}")


def history(store: StoreOption) -> None:
    """Print every checkpoint the witness countersigned and every refusal it kept, oldest first."""
    opened = _opened(store)
    lines = [
        (
            made.cosignature.cosigned_at,
            f"{made.cosignature.cosigned_at} countersigned {made.checkpoint.size} events, root "
            f"{ledger.b64(made.checkpoint.root)}, signed at {made.checkpoint.signed_at}",
        )
        for made in opened.history()
    ]
    lines.extend(
        (refusal.refused_at, f"{refusal.refused_at} REFUSED: {refusal.reason}")
        for refusal in opened.refusals()
    )
    for _, line in sorted(lines):
        typer.echo(line)
    typer.echo(f"{len(opened.history())} countersigned, {len(opened.refusals())} refused", err=True)


def commands() -> typer.Typer:
    """The witness's commands as a group of their own (a new one each call)."""
    group = typer.Typer(
        name="witness",
        help="Run a witness at another institution, or send it the service's checkpoints.",
        no_args_is_help=True,
    )
    group.command()(init)
    group.command()(serve)
    group.command("public-key")(public_key)
    group.command()(history)
    return group
