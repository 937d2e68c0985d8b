"""The command line on both engines: demo data in every state, status reporting lag until a
rebuild, sweep; every refusal in one line with exit code 2; every command described."""

from __future__ import annotations

import re
import sqlite3
import uuid
from pathlib import Path

import pytest
import typer

from orders.commands import RegisterContact
from orders.values import Status
from projections.order_state import OrderFilter
from service.bootstrap import bootstrap
from service.cli import app, main
from service.settings import Settings
from tests.factories import INSPECTOR, SOCIAL_WORKER, an_assessment, issue_order, request_order
from tests.integration.helpers import issued_order
from tests.receivers import MailReceiver

COMMANDS = typer.main.get_command(app).commands  # type: ignore[attr-defined]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(autouse=True)
def plain_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    """Standard error is not a terminal here, whatever the environment says."""
    for variable in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(variable, raising=False)


def test_demo_fills_the_store_then_status_reports_the_lag_until_a_rebuild(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PROTECTION_ORDERS_DATABASE_URL", database_url)
    assert main(["demo", "--orders", "60", "--seed", "3"]) == 0
    assert "done:" in capsys.readouterr().err
    service = bootstrap(Settings(database_url=database_url))
    try:
        states = service.states.page(OrderFilter(limit=1000), now=service.orders.now())[0]
        assert len(states) == 60
        assert {row["status"] for row in states} >= {
            Status.REQUESTED,
            Status.ISSUED,
            Status.EXPIRED,
        }
        assert any(row["missed_check_ins"] for row in states)
        timeline_rows = service.views.db.query("SELECT COUNT(*) AS n FROM timeline")[0]["n"]
        issued_order(service.orders)  # three events, straight through the application
        head = service.views.head()
    finally:
        service.close()

    assert main(["status"]) == 0
    lagging = capsys.readouterr().out
    assert f"timeline: position {timeline_rows} of {head} (3 behind)" in lagging
    assert main(["status"]) == 0
    assert capsys.readouterr().out == lagging  # status reports the lag; it never hides it
    assert main(["rebuild"]) == 0
    assert "rebuilding read models" in capsys.readouterr().err
    assert main(["status"]) == 0
    status = capsys.readouterr().out
    assert f"timeline: position {head} of {head} (0 behind)" in status
    assert main(["sweep"]) == 0
    assert "recorded 0 missed check-in(s)" in capsys.readouterr().err  # demo ends swept


def test_deliver_sends_what_is_due_now(
    database_url: str,
    mail: MailReceiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PROTECTION_ORDERS_DATABASE_URL", database_url)
    monkeypatch.setenv("PROTECTION_ORDERS_SMTP_PORT", str(mail.port))
    assert main(["deliver"]) == 0
    assert "nothing to deliver" in capsys.readouterr().err
    service = bootstrap(Settings(database_url=database_url))
    try:
        orders = service.orders
        order_id = orders.handle(request_order(orders.now()), by=SOCIAL_WORKER).order.id
        contact = RegisterContact(person_id="p1", channel="email", address="her@mail.example")
        orders.handle(contact, order_id, by=SOCIAL_WORKER)
        orders.handle(an_assessment(), order_id, by=INSPECTOR)
        orders.handle(issue_order(orders.now()), order_id, by=INSPECTOR)
    finally:
        service.close()
    assert main(["deliver"]) == 0  # catches the outbox up, then sends her notice of issue
    assert "delivered 1 message(s)" in capsys.readouterr().err
    assert [m.to for m in mail.received] == [["her@mail.example"]]


def test_a_bad_database_url_is_refused_with_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PROTECTION_ORDERS_DATABASE_URL", "mysql://somewhere/orders")
    assert main(["status"]) == 2
    assert "must start with sqlite:/// or postgresql://" in capsys.readouterr().err


# Refusals: one line on standard error, exit code 2, never a traceback.


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    printed = capsys.readouterr()
    lines = printed.err.splitlines()
    assert len(lines) == 1, printed.err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in printed.err + printed.out
    return lines[0]


@pytest.fixture
def sqlite_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SQLite database for commands that would otherwise make var/ in the working folder."""
    path = tmp_path / "orders.db"
    monkeypatch.setenv("PROTECTION_ORDERS_DATABASE_URL", f"sqlite:///{path}")
    return path


A_UUID = "8c4c52e7-1d3a-4f7e-9a51-6b0d2f0c9e11"


@pytest.mark.usefixtures("sqlite_file")
@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["export", "case-17"], "'case-17' is not an order id; an order id is a UUID"),
        (["export", A_UUID, "--out", "nowhere/x.json"], "the folder nowhere does not exist"),
        (["export", A_UUID, "--out", "/"], "/ is a folder; name a file in it"),
        (["verify", "no-such-bundle.json"], "'no-such-bundle.json' does not exist"),
        (
            ["audit", "--from", "2026-11-01", "--to", "2026-10-01"],
            "--to 2026-10-01 must come after --from 2026-11-01",
        ),
        (["audit", "--from", "1 Oct", "--to", "2026-11-01"], "'1 Oct' is not a day"),
        (["demo", "--orders", "0"], "'--orders': must be at least 1, not 0"),
        (["demo", "--orders", "-5"], "'--orders': must be at least 1, not -5"),
        (["token", "--role", "inspector", "--hours", "-2"], "must be more than 0 hours"),
        (["token", "--role", "inspector", "--hours", "13"], "must be at most 12 hours"),
        (["token", "--role", "system"], "'system' is not a role; choose one of social_worker"),
        (["serve", "--only", "everything"], "'--only'"),
        (["statuss"], "No such command 'statuss'. Did you mean 'status'?"),
    ],
)
def test_a_mistaken_argument_is_refused_in_one_line_pointing_to_the_help(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    line = refused(argv, capsys)
    assert says in line
    assert line.endswith("--help`)")


def test_a_bundle_that_is_not_json_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "case.json"
    bundle.write_text("%PDF-1.7 not a bundle", encoding="utf-8")
    assert "cannot be read as a case bundle (JSONDecodeError)" in refused(
        ["verify", str(bundle)], capsys
    )
    bundle.write_text('{"events": []}', encoding="utf-8")
    assert "cannot be read as a case bundle (KeyError)" in refused(["verify", str(bundle)], capsys)


def test_an_order_that_does_not_exist_is_refused_by_the_rules(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PROTECTION_ORDERS_DATABASE_URL", database_url)
    missing = uuid.uuid4()
    line = refused(["export", str(missing), "--out", "-"], capsys)
    assert f"no protection order with id {missing}; check the id" in line


def test_a_database_locked_by_another_command_is_refused_with_what_to_do(
    sqlite_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status"]) == 0  # the tables exist
    capsys.readouterr()
    other = sqlite3.connect(sqlite_file, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")  # as a long write by another process would
        line = refused(["rebuild"], capsys)
    finally:
        other.close()
    assert "the database is locked by another command" in line
    assert "wait for it to finish" in line


def test_a_database_url_that_cannot_be_opened_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PROTECTION_ORDERS_DATABASE_URL", f"sqlite:///{tmp_path}")  # a folder
    line = refused(["status"], capsys)
    assert "the database could not be used (unable to open database file)" in line


@pytest.mark.usefixtures("sqlite_file")
@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("SWEEP_SECONDS", "soon", "PROTECTION_ORDERS_SWEEP_SECONDS must be a positive number"),
        ("DETECT_SECONDS", "-5", "PROTECTION_ORDERS_DETECT_SECONDS must be a positive number"),
        ("ENV", "staging", "PROTECTION_ORDERS_ENV must be development or production"),
        ("POLICY", "/no/such/policy.toml", "cannot read policy file /no/such/policy.toml"),
    ],
)
def test_a_bad_setting_is_refused_naming_its_variable(
    variable: str,
    value: str,
    says: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(f"PROTECTION_ORDERS_{variable}", value)
    assert says in refused(["status"], capsys)


def test_an_invalid_policy_file_is_refused_in_one_line(
    sqlite_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('version = "x"\n', encoding="utf-8")
    monkeypatch.setenv("PROTECTION_ORDERS_POLICY", str(policy))
    line = refused(["status"], capsys)
    assert f"policy file {policy} is not valid: " in line
    assert "unset PROTECTION_ORDERS_POLICY to use the packaged policy" in line


@pytest.mark.usefixtures("sqlite_file")
def test_a_refused_key_is_never_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PROTECTION_ORDERS_ENCRYPTION_KEY", "hunter2-is-not-base64")
    line = refused(["status"], capsys)
    assert "PROTECTION_ORDERS_ENCRYPTION_KEY must be base64" in line
    assert "hunter2" not in line
    monkeypatch.delenv("PROTECTION_ORDERS_ENCRYPTION_KEY")
    monkeypatch.setenv("PROTECTION_ORDERS_ENV", "production")
    monkeypatch.setenv("PROTECTION_ORDERS_TOKEN_KEY", "hunter2-too-short")
    line = refused(["token", "--role", "inspector"], capsys)
    assert "PROTECTION_ORDERS_TOKEN_KEY must be set to a secret of at least 32" in line
    assert "hunter2" not in line


# Help: every command and every option says what it is for.


def test_every_command_keeps_its_name() -> None:
    assert set(COMMANDS) == {
        "serve",
        "demo",
        "token",
        "export",
        "verify",
        "public-key",
        "checkpoint",
        "detect",
        "audit",
        "verify-store",
        "rebuild",
        "sweep",
        "status",
        "deliver",
        "migrate",
        "witness",
    }
    assert set(COMMANDS["witness"].commands) == {"init", "serve", "public-key", "history", "send"}


def shown_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main([*argv, "--help"]) == 0
    return " ".join(ANSI.sub("", capsys.readouterr().out).replace("│", " ").split())


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # one line per option, so descriptions read whole


@pytest.mark.usefixtures("wide")
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_help_of_every_command_describes_it_and_each_of_its_options(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    command = COMMANDS[name]
    shown = shown_help([name], capsys)
    assert command.help
    assert " ".join(command.help.split()) in shown
    for parameter in command.params:
        assert parameter.help, f"{name} {parameter.name} has no description"
        assert " ".join(parameter.help.split()) in shown


@pytest.mark.usefixtures("wide")
@pytest.mark.parametrize("name", sorted(COMMANDS["witness"].commands))
def test_the_help_of_every_witness_command_describes_it_and_each_of_its_options(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    command = COMMANDS["witness"].commands[name]
    shown = shown_help(["witness", name], capsys)
    assert command.help
    assert " ".join(command.help.split()) in shown
    for parameter in command.params:
        assert parameter.help, f"witness {name} {parameter.name} has no description"
        assert " ".join(parameter.help.split()) in shown


@pytest.mark.usefixtures("wide")
def test_the_help_lists_every_command_with_its_description(
    capsys: pytest.CaptureFixture[str],
) -> None:
    shown = shown_help([], capsys)
    assert "Exit codes: 0 done; 1 a check found something that does not hold; 2 refused" in shown
    for name, command in COMMANDS.items():
        assert f"{name} {command.help}" in shown
