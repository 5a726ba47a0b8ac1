"""Drill projects: the example loads; each mistake is exit 2 naming FILE:LINE: field; init and
check-project agree; a DrillSpec becomes the engine's Drill. No Docker."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from drillbook.cli import main
from drillbook.errors import ConfigError
from drillbook.faults import KillContainer, Scheduled
from drillbook.project import Project, init_project, load_project, project_drills, to_drill

DATA = Path(__file__).resolve().parent / "data"
SHOP = DATA / "shop"
RUNBOOK = Path(__file__).resolve().parents[2] / "fixtures" / "operational-runbooks.md"


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(SHOP, root)
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _check(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["check-project", str(root)])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_example_project_loads() -> None:
    project = load_project(SHOP)
    assert project.name == "shop"
    assert project.lab.services == ("web", "db")
    assert project.roles.service("api") == "web"
    assert project.roles.service("db") == "db"
    assert project.secrets == {"DB_PASSWORD": ("web", "db")}
    assert [h.service for h in project.health] == ["web", "db"]
    assert project.todos == ()
    killed, flush, breach, python = project.drills
    assert (killed.fault, dict(killed.fault_params)) == ("kill_container", {"service": "api"})
    assert [s.kind for s in killed.steps] == ["restart", "run"]
    assert killed.steps[0].runbook == "runbook.md:15"
    budgets = {b.measure: b for b in killed.budgets}
    assert budgets["time_to_respond"].seconds == 180
    assert budgets["time_to_respond"].source.startswith("runbook.md:10 ApiDown Response Time")
    assert budgets["time_to_recover"].seconds == 300
    assert budgets["time_to_recover"].source == (
        "api-killed.yaml:15 drill file (runbook 600s: runbook.md:27 If the API is not restored "
        "within 10 minutes, escalate to the platform team)"
    )
    assert [i.kind for i in killed.invariants] == ["sql", "http"]
    assert flush.planned
    assert [s.kind for s in flush.steps] == ["scale", "kubectl"]
    assert flush.budgets[0].source == "cache-flush.yaml:10 drill file (the runbook states none)"
    assert [(b.measure, b.seconds) for b in breach.budgets] == [("window:Immediate Actions", 200)]
    assert python.python == "shop_drills.custom:api_hung"


def test_check_project_prints_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _check(SHOP, capsys)
    assert code == 0
    assert out == (
        "project 'shop': runbook runbook.md (1 alerts, 2 procedures), lab compose (2 services), "
        "4 drills\n"
    )


KILLED = "drills/api-killed.yaml"
BAD = [
    pytest.param(
        "drillbook.yaml",
        "postgres: db",
        "postgres: database",
        "drillbook.yaml:7: roles.postgres: no service 'database' in the lab",
        id="role-to-a-missing-service",
    ),
    pytest.param(
        KILLED,
        "service_healthy: {service: api}",
        "service_healthy: {service: cache}",
        f"{KILLED}:7: probes[0].service_healthy.service: unknown service 'cache'",
        id="missing-service",
    ),
    pytest.param(
        KILLED,
        "kill_container: {service: api}",
        "kill_containr: {service: api}",
        f"{KILLED}:5: fault: unknown fault 'kill_containr'",
        id="unknown-fault",
    ),
    pytest.param(
        KILLED,
        "kill_container: {service: api}",
        "kill_container: {service: api, signl: KILL}",
        f"{KILLED}:5: fault.kill_container: unknown parameter 'signl'",
        id="unknown-fault-parameter",
    ),
    pytest.param(
        KILLED,
        "    restart: {service: api}\n",
        "",
        f"{KILLED}:9: steps[0]: step 'restart the API' is bound to nothing",
        id="step-bound-to-nothing",
    ),
    pytest.param(
        KILLED,
        "    restart: {service: api}\n",
        "    restart: {service: api}\n    kubectl: rollout restart deployment/api\n",
        f"{KILLED}:12: steps[0]: step 'restart the API' is bound to both restart and kubectl; "
        "expected exactly one",
        id="step-bound-twice",
    ),
    pytest.param(
        KILLED,
        "restart: {service: api}",
        "restart: {service: api, replicas: 2}",
        f"{KILLED}:11: steps[0].restart: restart: got an unexpected keyword argument 'replicas'",
        id="verb-argument",
    ),
    pytest.param(
        KILLED,
        "time_to_recover: 300",
        "time_to_recover: 900",
        f"{KILLED}:15: budgets.time_to_recover: 900s would loosen the runbook's 600s "
        "(runbook.md:27 If the API is not restored within 10 minutes, escalate to the platform "
        "team); a drill may only tighten a budget",
        id="looser-budget",
    ),
    pytest.param(
        KILLED,
        "alert: ApiDown",
        "alert: ApiDwn",
        f"{KILLED}:2: alert: the runbook has no alert 'ApiDwn'",
        id="unknown-alert",
    ),
    pytest.param(
        "drills/cache-flush.yaml",
        "procedure: Cache Flush / Flush",
        "procedure: Cache Flsh",
        "drills/cache-flush.yaml:2: procedure: the runbook has no procedure 'Cache Flsh'",
        id="unknown-procedure",
    ),
    pytest.param(
        "compose.yaml",
        "  db:\n",
        "  db: [\n",
        "compose.yaml:8: not valid YAML: expected ',' or ']', but got '<stream end>'",
        id="compose-syntax-error",
    ),
    pytest.param(
        "compose.yaml",
        "services:",
        "service:",
        "compose.yaml:1: compose: missing field 'services'",
        id="compose-without-services",
    ),
    pytest.param(
        "drillbook.yaml",
        "runbook: runbook.md",
        "runbook: runbok.md",
        "drillbook.yaml:2: runbook: no such runbook: {root}/runbok.md",
        id="missing-runbook",
    ),
    pytest.param(
        KILLED,
        '  - http: {service: api, port: "8080", path: /health}',
        '  - http: {service: api, port: "8080", path: /health}\n    sql: SELECT 1',
        f"{KILLED}:19: invariants[1]: expected exactly one of sql: QUERY (must return no rows) or "
        "http: {service, port, path, expect}",
        id="invariant-both",
    ),
    pytest.param(
        "drillbook.yaml",
        "secrets:",
        "monitoring:\n  web: {port: 8080}\nsecrets:",
        "drillbook.yaml:11: monitoring: scrape targets need alert rules to evaluate: give "
        "alert_rules: FILE too",
        id="monitoring-without-rules",
    ),
    pytest.param(
        "drillbook.yaml",
        "secrets:",
        "alert_rules: runbook.md\nmonitoring:\n  web: {port: eighty}\nsecrets:",
        "drillbook.yaml:13: monitoring.web.port: expected a port number, got 'eighty'",
        id="monitoring-bad-port",
    ),
    pytest.param(
        "drillbook.yaml",
        "secrets:",
        "alert_rules: runbook.md\nmonitoring:\n  wbe: {port: 80}\nsecrets:",
        "drillbook.yaml:13: monitoring: unknown service 'wbe'",
        id="monitoring-unknown-service",
    ),
]


@pytest.mark.parametrize(("file", "old", "new", "message"), BAD)
def test_a_bad_project_is_exit_2_naming_file_line_and_field(
    shop: Path, capsys: pytest.CaptureFixture[str], file: str, old: str, new: str, message: str
) -> None:
    _edit(shop / file, old, new)
    code, out, err = _check(shop, capsys)
    assert (code, out) == (2, "")
    first = err.splitlines()[0]
    expected = message.replace("{root}", str(shop))
    assert first == f"drillbook: error: {shop}/{expected}"


def test_an_unknown_fault_lists_the_known_ones(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(shop / KILLED, "kill_container:", "kill_containr:")
    _, _, err = _check(shop, capsys)
    assert "Hint: known faults: block_peer, cpu_pressure," in err
    assert "kill_container" in err.splitlines()[1]


def test_a_runbook_that_does_not_parse_is_exit_2(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (shop / "runbook.md").write_text("# Nothing\n\njust prose\n")
    code, _, err = _check(shop, capsys)
    assert code == 2
    assert err.startswith(f"drillbook: error: {shop}/runbook.md: 1 problem(s) in the runbook:\n")


def _init(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    root = tmp_path / "trading"
    code = main(
        ["init", str(root), "--runbook", str(RUNBOOK), "--compose", str(DATA / "compose.yaml")]
    )
    capsys.readouterr()
    assert code == 0
    return root


def test_init_writes_a_skeleton_per_alert_and_procedure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _init(tmp_path, capsys)
    drills = sorted(p.name for p in (root / "drills").iterdir())
    assert len(drills) == 4 + 28  # the runbook's alerts and procedures
    assert "tradingbotdown.yaml" in drills
    text = (root / "drills" / "tradingbotdown.yaml").read_text()
    assert "#   time_to_respond: 120  (operational-runbooks.md:20 TradingBotDown" in text
    assert "# TODO" in text
    # a step whose one command has a Docker verb on a Compose service is bound at once
    restart = (root / "drills" / "database-recovery-minor-issues-recovery.yaml").read_text()
    assert "    delete_pod: {service: postgres}" in restart
    assert "# TODO roles: which service plays 'backend'?" in (root / "drillbook.yaml").read_text()


def test_check_project_lists_every_todo_init_left(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _init(tmp_path, capsys)
    code, out, err = _check(root, capsys)
    assert (code, out) == (2, "")
    head, *todos = err.splitlines()
    todos = [t for t in todos if not t.startswith("Hint:")]
    assert head == f"drillbook: error: {root}/drillbook.yaml: {len(todos)} TODO(s) left:"
    for todo in todos:
        assert re.fullmatch(
            rf"  {re.escape(str(root))}/drills/[\w-]+\.yaml:\d+: [\w.\[\]]+: TODO .+", todo
        ), todo
    assert f"  {root}/drills/tradingbotdown.yaml:5: fault: TODO the fault to inject" in err
    assert f"  {root}/drills/tradingbotdown.yaml:14: steps[0].todo: TODO bind to a verb" in err
    assert any("budgets.time_to_recover: TODO seconds" in t for t in todos)


def test_an_initialised_project_passes_once_its_todos_are_done(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _init(tmp_path, capsys)
    for path in (root / "drills").iterdir():
        text = path.read_text()
        text = re.sub(
            r'^fault: "TODO.*', "fault: {kill_container: {service: postgres}}", text, flags=re.M
        )
        text = re.sub(
            r'^probes: "TODO.*',
            "probes: [{service_healthy: {service: postgres}}]",
            text,
            flags=re.M,
        )
        text = re.sub(
            r'^    todo: "TODO.*', "    kubectl: get pods -n trading-bot", text, flags=re.M
        )
        text = re.sub(r'time_to_recover: "TODO.*', "time_to_recover: 600", text)
        path.write_text(text)
    code, out, err = _check(root, capsys)
    assert (code, err) == (0, "")
    assert out.startswith(
        "project 'trading': runbook operational-runbooks.md (4 alerts, 28 procedures)"
    )


def test_init_refuses_to_overwrite_a_project(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["init", str(shop), "--runbook", str(RUNBOOK), "--compose", str(DATA / "compose.yaml")]
    )
    assert code == 2
    assert capsys.readouterr().err == (
        f"drillbook: error: {shop}/drillbook.yaml: a project is already there; refusing to "
        "overwrite it\n"
    )
    assert (shop / "drillbook.yaml").read_text() == (SHOP / "drillbook.yaml").read_text()


def test_a_drill_spec_becomes_the_engines_drill() -> None:
    project: Project = load_project(SHOP)
    killed, flush, breach, python = project.drills
    drill = to_drill(killed, project)
    assert drill.fault == KillContainer("web")  # the role api is the service web
    assert drill.services == ("web",)
    assert [p.name for p in drill.probes] == ["web healthy"]
    assert drill.budgets == killed.budgets

    class Platform:
        calls: list[tuple[str, object]] = []

        def restart(self, service: str) -> None:
            self.calls.append(("restart", service))

        def exec(self, service: str, argv: tuple[str, ...]) -> None:
            self.calls.append(("exec", (service, argv)))

    for step in drill.steps:
        step.run(Platform())  # type: ignore[arg-type]
    assert Platform.calls == [
        ("restart", "web"),
        ("exec", ("web", ("sh", "-c", "pg_isready -h db -p 5432"))),
    ]
    planned = to_drill(breach, project)
    assert planned.planned
    assert planned.fault == Scheduled("a suspected breach")
    assert planned.steps[0].stage == "Immediate Actions"
    with pytest.raises(ConfigError, match=r"cache-flush.yaml:7: step 'scale up': a kubectl step"):
        to_drill(flush, project)
    with pytest.raises(ConfigError, match=r"shop_drills\.custom:api_hung is a Python drill"):
        to_drill(python, project)
    # project_drills imports it, and says where when the module is not there
    with pytest.raises(ConfigError, match=r"drillbook.yaml:17: python: cannot import shop_drills"):
        project_drills(dataclasses.replace(project, drills=(python,)))


def test_the_public_names_resolve() -> None:
    import drillbook.project

    for name in drillbook.project.__all__:
        assert getattr(drillbook.project, name) is not None, name


def test_a_lab_of_manifests_names_its_workloads(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (shop / "k8s.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: web-svc}\n---\n"
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\n"
    )
    _edit(
        shop / "drillbook.yaml",
        "  compose: compose.yaml",
        "  compose: compose.yaml\n  manifests: [k8s.yaml]\n  context: kind-shop",
    )
    project = load_project(shop)
    assert project.lab.kinds == ("compose", "manifests")
    assert project.lab.envs == ("docker", "kubernetes")  # a drill without env: is a Docker one
    assert project.lab.services == ("web", "db")  # Compose's, then the workloads (the same)
    assert project.lab.context == "kind-shop"
    # manifests only: the drills are Kubernetes drills, and a Docker fault is not one of theirs
    _edit(shop / "drillbook.yaml", "  compose: compose.yaml\n", "")
    with pytest.raises(
        ConfigError, match=r"api-killed\.yaml:5: fault: unknown Kubernetes fault 'kill_container'"
    ):
        load_project(shop)
    (shop / "k8s.yaml").write_text("kind: Deployment\nmetadata: {name: web}\n---\nkind: [\n")
    code, _, err = _check(shop, capsys)
    assert code == 2
    assert err.splitlines()[0] == (
        f"drillbook: error: {shop}/k8s.yaml:5: not valid YAML: expected the node content, but "
        "found '<stream end>'"
    )


def test_init_from_manifests_binds_the_runbooks_kubectl_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """From a kubectl runbook and manifests (no Compose file): Kubernetes drills, each step
    whose command drillbook runs bound to the runbook's own line; once the faults and probes
    are chosen, the project checks and lists its drills for --env kubernetes."""
    example = Path(__file__).resolve().parents[2] / "examples" / "notes" / "kubernetes"
    manifests = [str(example / "manifests" / n) for n in ("notes.yaml", "network-policies.yaml")]
    root = tmp_path / "mine"
    argv = ["init", str(root), "--runbook", str(example / "runbook.md"), "--manifests"]
    assert main([*argv, *manifests]) == 0
    capsys.readouterr()
    api_down = (root / "drills" / "notesapidown.yaml").read_text()
    assert "env: kubernetes" in api_down
    assert 'kubectl: "kubectl rollout restart deployment/api -n notes"' in api_down
    assert "todo:" not in api_down  # every step of its resolution is a line drillbook runs
    db = (root / "drills" / "notesdatabaseunreachable.yaml").read_text()
    assert 'kubectl: "kubectl apply -f network-policies.yaml"' in db
    for path in (root / "drills").iterdir():
        text = re.sub(
            r'^fault: "TODO.*', "fault: {pod_kill: {app: api}}", path.read_text(), flags=re.M
        )
        text = re.sub(
            r'^probes: "TODO.*', "probes: [{workload_ready: {app: api}}]", text, flags=re.M
        )
        path.write_text(text)
    code, out, err = _check(root, capsys)
    assert (code, err) == (0, "")
    assert "lab manifests (3 services), 3 drills" in out
    assert main(["list", "--project", str(root), "--env", "kubernetes"]) == 0
    assert "notesbadrelease" in capsys.readouterr().out
    with pytest.raises(ConfigError, match="the lab is missing: give --compose FILE or --manifests"):
        init_project(tmp_path / "none", example / "runbook.md")
