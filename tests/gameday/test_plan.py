"""Game-day plans: the shipped ones load; every mistake names the file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from drillbook.drills import default_runbook
from drillbook.drills.catalog import docker_drills
from drillbook.drills.kubernetes import kubernetes_drills
from drillbook.errors import ConfigError
from drillbook.gameday import Plan, load_plan, plan_env, render_plan
from drillbook.sla import get_profile

PLANS = Path(__file__).resolve().parents[2] / "drills" / "gameday"
CATALOGUE = docker_drills(default_runbook())
KUBERNETES = kubernetes_drills(default_runbook())
CRITICAL = {"TradingBotDown", "DatabaseDown", "ExchangeConnectionLost", "HighRiskExposure"}

GOOD = """\
name: t
roles:
  ic: {who: Alex, description: runs it}
  oncall: {who: Sam}
scenarios:
  - drill: exchanges-lost
    acknowledge: oncall
    budgets:
      time_to_respond: 60
    steps:
      - step: kubectl set env deployment/backend SIMULATE_TRADING=true
        by: human
        role: oncall
      - step: 2
        by: automation
        role: ic
"""


def _load(tmp_path: Path, text: str) -> Plan:
    path = tmp_path / "plan.yaml"
    path.write_text(textwrap.dedent(text))
    return load_plan(path, CATALOGUE)


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    return str(info.value)


def test_quarterly_covers_the_runbooks_critical_alerts() -> None:
    plan = load_plan(PLANS / "quarterly.yaml", CATALOGUE)
    assert {s.drill.alert for s in plan.scenarios} == CRITICAL
    assert {"incident-commander", "on-call", "dba", "risk-manager"} <= {r.name for r in plan.roles}
    kinds = {a.by for s in plan.scenarios for a in s.steps}
    assert kinds == {"human", "automation"}  # a mix: people do some steps, automation others


def test_quarterly_kubernetes_names_kubernetes_drills_for_the_same_alerts() -> None:
    plan = load_plan(PLANS / "quarterly-kubernetes.yaml", KUBERNETES, env="kubernetes")
    assert [s.drill.name for s in plan.scenarios] == [
        "backend-killed",
        "postgres-killed",
        "backend-bad-rollout",
        "exchanges-lost",
    ]
    # HighRiskExposure has no Kubernetes drill
    assert {s.drill.alert for s in plan.scenarios} == CRITICAL - {"HighRiskExposure"}
    assert {"incident-commander", "on-call", "dba"} <= {r.name for r in plan.roles}
    assert {a.by for s in plan.scenarios for a in s.steps} == {"human", "automation"}


def _first_drill_line(path: Path) -> int:
    return next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "- drill:" in t)


def test_a_plan_for_another_env_fails_naming_the_file_the_scenario_and_this_envs_drills(
    tmp_path: Path,
) -> None:
    # without its env: line, its drills say which; backend-hung is a drill of Docker only (the
    # plan's others are portable: both backends run them)
    quarterly = tmp_path / "quarterly.yaml"
    text = (PLANS / "quarterly.yaml").read_text().replace("env: docker\n", "")
    quarterly.write_text(text.replace("drill: backend-killed", "drill: backend-hung"))
    with pytest.raises(ConfigError) as info:
        load_plan(
            quarterly,
            KUBERNETES,
            env="kubernetes",
            elsewhere={"docker": [d.name for d in CATALOGUE]},
        )
    assert str(info.value) == (
        f"{quarterly}:{_first_drill_line(quarterly)}: scenarios[0].drill: unknown drill "
        "'backend-hung' on env kubernetes: it is a drill of env docker (run this plan with "
        "--env docker)\nHint: the drills of env kubernetes: "
        + ", ".join(d.name for d in KUBERNETES)
    )


@pytest.mark.parametrize(
    ("plan", "env", "other"),
    [
        ("quarterly.yaml", "kubernetes", "docker"),
        ("quarterly-kubernetes.yaml", "docker", "kubernetes"),
    ],
)
def test_a_plan_whose_env_is_not_the_one_named_fails_naming_file_line_and_field(
    plan: str, env: str, other: str
) -> None:
    path = PLANS / plan
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if t == f"env: {other}")
    with pytest.raises(ConfigError) as info:
        load_plan(path, KUBERNETES if env == "kubernetes" else CATALOGUE, env=env)
    assert str(info.value) == (
        f"{path}:{line}: env: the plan is for env {other}; expected --env {other} (or none), got "
        f"--env {env}\nHint: run it with --env {other}, or leave --env out: the plan's env is used"
    )


def test_the_shipped_plans_say_their_env_and_an_unsaid_one_is_empty(tmp_path: Path) -> None:
    assert plan_env(PLANS / "quarterly.yaml") == "docker"
    assert plan_env(PLANS / "smoke.yaml") == "docker"
    assert plan_env(PLANS / "quarterly-kubernetes.yaml") == "kubernetes"
    assert load_plan(PLANS / "smoke.yaml", CATALOGUE, env="docker").env == "docker"
    assert _load(tmp_path, GOOD).env == ""
    assert plan_env(tmp_path / "plan.yaml") == ""
    # its own env named, or none: no mismatch
    plan = load_plan(PLANS / "quarterly-kubernetes.yaml", KUBERNETES, env="kubernetes")
    assert plan.env == "kubernetes"


def test_without_drills_given_the_plans_env_picks_the_catalogue() -> None:
    plan = load_plan(PLANS / "quarterly-kubernetes.yaml")  # the Docker catalogue lacks its drills
    assert {s.drill.name for s in plan.scenarios} <= {d.name for d in KUBERNETES}
    assert plan.env == "kubernetes"


def test_a_drill_of_no_env_is_unknown_on_the_env_named(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(GOOD.replace("drill: exchanges-lost", "drill: pods-lost"))
    with pytest.raises(ConfigError) as info:
        load_plan(path, KUBERNETES, env="kubernetes", elsewhere={"docker": ["backend-killed"]})
    message = str(info.value)
    assert message.startswith(
        f"{path}:6: scenarios[0].drill: unknown drill 'pods-lost' on env kubernetes\n"
        "Hint: the drills of env kubernetes: exchange-rate-limited, exchanges-lost, "
    ), message


def test_smoke_is_one_scenario_with_two_steps_for_people() -> None:
    plan = load_plan(PLANS / "smoke.yaml", CATALOGUE)
    [scenario] = plan.scenarios
    assert [a.by for a in scenario.steps] == ["human", "human"]
    assert scenario.roles() == ("on-call", "incident-commander")


def test_a_plan_reads_roles_steps_by_name_or_number_and_budgets(tmp_path: Path) -> None:
    plan = _load(tmp_path, GOOD)
    assert plan.people() == {"ic": "Alex", "oncall": "Sam"}
    [scenario] = plan.scenarios
    assert [(a.by, a.role) for a in scenario.steps] == [("human", "oncall"), ("automation", "ic")]
    assert scenario.steps[1].step == "escalate to management: multiple exchanges affected"
    [budget] = scenario.budgets
    assert (budget.measure, budget.seconds) == ("time_to_respond", 60.0)
    assert budget.source.startswith("plan.yaml:9 game-day plan (runbook 300s")


def test_steps_not_listed_are_automations(tmp_path: Path) -> None:
    plan = _load(
        tmp_path,
        "roles: {oncall: {who: Sam}}\nscenarios: [{drill: backend-killed, acknowledge: oncall}]\n",
    )
    assert [a.by for a in plan.scenarios[0].steps] == ["automation"]
    assert plan.name == "plan"  # the file's stem without a name


def test_the_plan_tightens_but_the_profile_may_tighten_more(tmp_path: Path) -> None:
    [scenario] = _load(tmp_path, GOOD).scenarios
    gameday = {b.measure: b.seconds for b in scenario.effective_budgets(get_profile("gameday"))}
    assert gameday == {"time_to_respond": 60.0, "time_to_recover": 900.0}
    ci = {b.measure: b.seconds for b in scenario.effective_budgets(get_profile("ci"))}
    assert ci == {"time_to_respond": 30.0, "time_to_recover": 90.0}  # ci's limits are stricter


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ("drill: exchanges-lost", "drill: exchange-lost"),
            (
                "plan.yaml:6: scenarios[0].drill: unknown drill 'exchange-lost'\nHint: drills: back"
                "end-killed, "
            ),
        ),
        (
            ("acknowledge: oncall", "acknowledge: dba"),
            (
                "plan.yaml:7: scenarios[0].acknowledge: unknown role 'dba'\nHint: the plan's roles:"
                " ic, oncall"
            ),
        ),
        (
            ("role: oncall", "role: cfo"),
            "plan.yaml:13: scenarios[0].steps[0].role: unknown role 'cfo'",
        ),
        (
            ("step: 2", "step: 3"),
            (
                "plan.yaml:14: scenarios[0].steps[1].step: drill 'exchanges-lost' has no step '3'\n"
                "Hint: its steps (by name or number): 1: kubectl set env deployment/backend SIMULAT"
                "E_TRADING=true; 2: escalate to management"
            ),
        ),
        (
            ("SIMULATE_TRADING=true", "SIMULATE=true"),
            (
                "scenarios[0].steps[0].step: drill 'exchanges-lost' has no step 'kubectl set env de"
                "ployment/backend SIMULATE=true'"
            ),
        ),
        (
            ("time_to_respond: 60", "time_to_respond: 301"),
            (
                "plan.yaml:9: scenarios[0].budgets.time_to_respond: 301s would loosen the runbook's"
                " 300s (operational-runbooks.md:173 ExchangeConnectionLost Response Time: < 5 minut"
                "es); a plan may only tighten a budget"
            ),
        ),
        (
            ("time_to_respond: 60", "time_to_respond: -5"),
            (
                "plan.yaml:9: scenarios[0].budgets.time_to_respond: expected a positive number of s"
                "econds, got '-5'"
            ),
        ),
        (
            ("time_to_respond: 60", "time_to_respond: soon"),
            "expected a positive number of seconds, got 'soon'",
        ),
        (
            ("time_to_respond: 60", "time_to_alert: 5"),
            (
                "plan.yaml:9: scenarios[0].budgets: unknown field 'time_to_alert'\nHint: fields her"
                "e: time_to_respond, time_to_recover"
            ),
        ),
        (
            ("by: automation", "by: robot"),
            "plan.yaml:15: scenarios[0].steps[1].by: expected human or automation, got 'robot'",
        ),
        (
            ("        role: oncall\n", ""),
            "plan.yaml:11: scenarios[0].steps[0]: a step done by hand needs the role that does it",
        ),
        (
            ("  oncall: {who: Sam}", "  oncall: {name: Sam}"),
            "plan.yaml:4: roles.oncall: unknown field 'name'\nHint: fields here: who, description",
        ),
        (
            ("  oncall: {who: Sam}", "  oncall: {}"),
            "plan.yaml:4: roles.oncall: missing field 'who'",
        ),
        (
            ("  oncall: {who: Sam}", "  oncall: Sam"),
            "plan.yaml:4: roles.oncall: expected a mapping with who, got 'Sam'",
        ),
        (
            ("name: t", "name: t\nprofile: weekly"),
            "plan.yaml:2: profile: unknown profile 'weekly'\nHint: profiles: ci, nightly, gameday",
        ),
        (
            ("name: t", "name: t\nowner: me"),
            (
                "plan.yaml:2: plan: unknown field 'owner'\nHint: fields here: roles, scenarios, nam"
                "e, description, profile, env"
            ),
        ),
        (
            ("      - step: 2", "      - step: 1"),
            (
                "plan.yaml:14: scenarios[0].steps[1]: step 'kubectl set env deployment/backend SIMU"
                "LATE_TRADING=true' assigned twice"
            ),
        ),
        (
            ("    acknowledge: oncall\n", ""),
            "plan.yaml:6: scenarios[0]: missing field 'acknowledge'",
        ),
        (
            (GOOD[GOOD.index("scenarios:") :], "scenarios: []\n"),
            "plan.yaml:5: scenarios: expected a non-empty list, got an empty list",
        ),
        (
            ("    budgets:\n      time_to_respond: 60\n", "    budgets: [1]\n"),
            (
                "plan.yaml:8: scenarios[0].budgets: expected a mapping (time_to_respond, time_to_re"
                "cover), got a list"
            ),
        ),
        (("name: t", "name: t\nname: u"), "plan.yaml:2: plan.name: given twice"),
        (
            ("name: t", "name: t\nenv: podman"),
            "plan.yaml:2: env: expected docker or kubernetes, got 'podman'",
        ),
        (("name: t", "name: t\nenv: [docker]"), "plan.yaml:2: env: expected a non-empty text"),
        (("roles:", "roles: ["), "plan.yaml:"),
    ],
)
def test_every_mistake_names_file_line_field_and_what_was_expected(
    tmp_path: Path, edit: tuple[str, str], expected: str
) -> None:
    old, new = edit
    assert old in GOOD
    message = _error(tmp_path, GOOD.replace(old, new, 1))
    assert message.startswith(str(tmp_path / "plan.yaml")), message
    assert expected.split("plan.yaml", 1)[-1] in message, message


def test_not_yaml_empty_or_missing(tmp_path: Path) -> None:
    assert "plan.yaml:2: not valid YAML" in _error(tmp_path, "roles: {a: {who: x}}\n  - ]\n")
    assert "plan.yaml:1: plan: the file is empty" in _error(tmp_path, "# nothing\n")
    assert "plan.yaml:1: plan: expected a mapping" in _error(tmp_path, "- a\n- b\n")
    with pytest.raises(ConfigError, match=r"nope\.yaml: no such game-day plan"):
        load_plan(tmp_path / "nope.yaml", CATALOGUE)


def test_dry_run_text_says_who_does_each_step_and_the_budgets(tmp_path: Path) -> None:
    plan = _load(tmp_path, GOOD)
    text = render_plan(plan, get_profile("gameday"))
    assert "acknowledges: oncall (Sam)" in text
    assert (
        "step 1: kubectl set env deployment/backend SIMULATE_TRADING=true  -> by hand: oncall (Sam)"
        in text
    )
    assert (
        "step 2: escalate to management: multiple exchanges affected  -> automation (watched by ic)"
        in text
    )
    assert "budget: time_to_respond <= 1:00 (60s; plan.yaml:9 game-day plan" in text
    assert text.startswith(f"game day 't' ({tmp_path / 'plan.yaml'}), profile gameday\n")
    kubernetes = load_plan(PLANS / "quarterly-kubernetes.yaml", KUBERNETES)
    assert ", env kubernetes, profile gameday\n" in render_plan(kubernetes, get_profile("gameday"))
    rehearsal = render_plan(plan, get_profile("gameday"), rehearsal=True)
    assert "acknowledges: automation as oncall" in rehearsal
    assert "-> automation (for oncall)" in rehearsal


def test_the_public_names_resolve() -> None:
    from drillbook import gameday

    assert gameday.__all__
    for name in gameday.__all__:
        assert getattr(gameday, name) is not None, name
