"""The policy file: defaults from the design brief, a drill's own file, clear errors."""

from datetime import timedelta
from pathlib import Path

import pytest

from orders.policy import PolicyFileError, load_policy
from orders.values import OrderKind, RiskLevel

DRILL = Path(__file__).parent.parent / "drill_policy.toml"


def test_the_default_policy_follows_the_design_brief() -> None:
    policy = load_policy()
    assert policy.check_in_every[RiskLevel.EXTREME] == timedelta(hours=72)
    assert policy.check_in_every[RiskLevel.HIGH] == timedelta(days=7)
    assert policy.kinds[OrderKind.TEMPORARY].max_duration == timedelta(days=30)
    assert policy.check_in_every[RiskLevel.LOW] is None  # low risk: no required check-ins
    assert policy.check_in_at_end
    assert policy.late_report_period == timedelta(days=3)


def test_a_drill_policy_runs_the_cycle_in_seconds() -> None:
    policy = load_policy(DRILL)
    assert policy.check_in_every[RiskLevel.HIGH] == timedelta(seconds=2)
    assert policy.version == "drill-1"


def test_a_bad_policy_file_says_which_field_is_wrong(tmp_path: Path) -> None:
    bad = tmp_path / "policy.toml"
    bad.write_text(DRILL.read_text().replace('high = "PT2S"', 'high = "soon"', 1))
    with pytest.raises(PolicyFileError, match=r"check_in_every\.high"):
        load_policy(bad)


def test_a_policy_with_check_ins_looser_than_reassessment_for_high_threat_is_refused(
    tmp_path: Path,
) -> None:
    loose = tmp_path / "policy.toml"
    loose.write_text(DRILL.read_text().replace('high = "PT2S"', 'high = "PT1H"', 1))
    with pytest.raises(PolicyFileError, match="must not exceed"):
        load_policy(loose)


def test_a_policy_without_check_ins_for_high_threat_is_refused(tmp_path: Path) -> None:
    without = tmp_path / "policy.toml"
    without.write_text(DRILL.read_text().replace('high = "PT2S"\n', "", 1))
    with pytest.raises(PolicyFileError, match=r"check_in_every\.high is required"):
        load_policy(without)


def test_a_missing_policy_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match=r"nowhere\.toml"):
        load_policy(tmp_path / "nowhere.toml")
