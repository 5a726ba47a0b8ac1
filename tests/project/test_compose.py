"""``read_compose``: a Compose file read into the Docker lab's ``ServiceSpec`` values, on small
files written to ``tmp_path``: what is read, interpolation, each error with its FILE:LINE and
field, and a Hypothesis fuzz of a Compose file inside a project through ``check-project``."""

from __future__ import annotations

import atexit
import contextlib
import io
import re
import shutil
import tempfile
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck as HypothesisHealthCheck
from hypothesis import given, settings
from hypothesis import strategies as st

from drillbook.cli import main
from drillbook.environments._spec import HealthCheck, MountSpec, PortSpec, ServiceSpec, VolumeSpec
from drillbook.errors import ConfigError
from drillbook.project import read_compose
from drillbook.project._model import HealthSpec
from support.mutations import mutate, paths, text_mutated

SHOP = Path(__file__).resolve().parent / "data" / "shop"


def _write(tmp: Path, text: str) -> Path:
    path = tmp / "compose.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def _read(
    tmp: Path,
    text: str,
    secrets: dict[str, tuple[str, ...]] | None = None,
    health: tuple[HealthSpec, ...] = (),
) -> dict[str, ServiceSpec]:
    path = _write(tmp, text)
    specs = read_compose(path, tmp, project="t", secrets=secrets, health=health)
    return {s.name: s for s in specs}


def _error(tmp: Path, text: str, secrets: dict[str, tuple[str, ...]] | None = None) -> str:
    path = _write(tmp, text)
    with pytest.raises(ConfigError) as info:
        read_compose(path, tmp, project="t", secrets=secrets)
    return str(info.value).removeprefix(f"{path}:")


# -- what is read ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "recipe_health"),
    [
        ("postgres:16", "postgres"),
        ("docker.io/library/redis:7", "redis"),
        ("drillbook/python", "tcp"),
        ("nginx:1.25", "tcp"),
    ],
)
def test_image_is_kept_and_its_recipe_chooses_the_default_health(
    tmp_path: Path, image: str, recipe_health: str
) -> None:
    spec = _read(tmp_path, f"services:\n  c:\n    image: {image}\n    ports: ['1234']\n")["c"]
    assert spec.image == image
    assert spec.health == HealthCheck(recipe_health, "1234")  # type: ignore[arg-type]
    assert spec.description == "Compose service c (compose.yaml)"


def test_recipe_ports_get_their_protocol_urls(tmp_path: Path) -> None:
    specs = _read(
        tmp_path,
        """
        services:
          db:
            image: postgres:16
            environment: {POSTGRES_USER: shop, POSTGRES_PASSWORD: "${PW}", POSTGRES_DB: orders}
            ports: ["5432"]
          cache:
            image: docker.io/library/redis:7
            expose: [6379]
        """,
        secrets={"PW": ("db",)},
    )
    assert specs["db"].ports == (
        PortSpec("5432", 5432, "postgresql://shop:{POSTGRES_PASSWORD}@{host}:{port}/orders"),
    )
    assert specs["db"].health == HealthCheck("postgres", "5432")
    assert specs["cache"].ports == (PortSpec("6379", 6379, "redis://{host}:{port}/0"),)
    assert specs["cache"].health == HealthCheck("redis", "6379")


def test_no_ports_and_no_healthcheck_means_no_health(tmp_path: Path) -> None:
    """Unless a recipe's own client can look inside: pg_isready, redis-cli ping."""
    specs = _read(
        tmp_path,
        "services:\n  a: {image: nginx}\n  b: {image: postgres:16}\n  c: {image: redis:7}\n",
    )
    assert specs["a"].health is None
    assert specs["a"].ports == ()
    assert specs["b"].health == HealthCheck("command", "", command=("pg_isready", "-q"))
    assert specs["c"].health == HealthCheck("command", "", command=("redis-cli", "ping"))


def test_command_and_entrypoint_as_list_and_as_string(tmp_path: Path) -> None:
    specs = _read(
        tmp_path,
        """
        services:
          a:
            image: postgres:16
            command: ["postgres", "-c", "fsync=off", 5]
          b:
            image: redis:7
            command: redis-server --save "" --appendonly 'no way'
            entrypoint: ["/bin/sh", "-c"]
          c:
            image: x
            entrypoint: /entry.sh --flag
            command: echo $$HOME ${GREETING:-hello world}
        """,
    )
    assert specs["a"].command == ("postgres", "-c", "fsync=off", "5")
    assert specs["a"].entrypoint == ()
    assert specs["b"].command == ("redis-server", "--save", "", "--appendonly", "no way")
    assert specs["b"].entrypoint == ("/bin/sh", "-c")
    assert specs["c"].entrypoint == ("/entry.sh", "--flag")
    assert specs["c"].command == ("echo", "$HOME", "hello", "world")


def test_environment_as_mapping_and_as_list(tmp_path: Path) -> None:
    specs = _read(
        tmp_path,
        """
        services:
          a:
            image: x
            environment:
              A: "1"
              B: 2
              C:
              D: x=y
          b:
            image: x
            environment: [A=1, B=x=y, C=]
        """,
    )
    assert specs["a"].env_dict() == {"A": "1", "B": "2", "C": "", "D": "x=y"}
    assert specs["b"].env_dict() == {"A": "1", "B": "x=y", "C": ""}


def test_env_file_then_environment_overrides(tmp_path: Path) -> None:
    (tmp_path / "app.env").write_text("# a comment\n\nA=1\nB='x y'\nC=\"$z\"\nD=from-file\n")
    (tmp_path / "more.env").write_text("E=5\n")
    specs = _read(
        tmp_path,
        """
        services:
          a:
            image: x
            env_file: app.env
            environment: {D: from-compose}
          b:
            image: x
            env_file: [./app.env, more.env]
        """,
    )
    assert specs["a"].env_dict() == {"A": "1", "B": "x y", "C": "$z", "D": "from-compose"}
    assert specs["b"].env_dict() == {"A": "1", "B": "x y", "C": "$z", "D": "from-file", "E": "5"}


def test_env_file_bad_line_names_its_own_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "app.env").write_text("A=1\nnot a pair\n")
    path = _write(tmp_path, "services:\n  a:\n    image: x\n    env_file: app.env\n")
    with pytest.raises(
        ConfigError, match=re.escape(f"{tmp_path / 'app.env'}:2: expected KEY=VALUE")
    ):
        read_compose(path, tmp_path, project="t")


def test_ports_short_long_and_expose_give_container_ports(tmp_path: Path) -> None:
    spec = _read(
        tmp_path,
        """
        services:
          c:
            image: x
            ports:
              - "8080:80"
              - "127.0.0.1:9090:90"
              - "70/tcp"
              - 60
              - {target: 50, published: "8050", protocol: tcp, host_ip: 127.0.0.1, mode: host}
              - "8081:80"
            expose: ["5000", 4000]
        """,
    )["c"]
    assert [p.container_port for p in spec.ports] == [80, 90, 70, 60, 50, 5000, 4000]
    assert spec.ports[0] == PortSpec("80", 80)
    assert spec.health == HealthCheck("tcp", "80")
    assert spec.primary_port == PortSpec("80", 80)


def test_named_volumes_and_bind_mounts(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "conf").mkdir()
    spec = _read(
        tmp_path,
        """
        services:
          c:
            image: x
            volumes:
              - data:/var/lib/data
              - logs:/logs:ro
              - ./src:/app/src:ro
              - ./conf:/etc/conf
              - {type: bind, source: ., target: /all, read_only: true}
              - {type: volume, source: data, target: /again}
        volumes:
          data:
          logs: {}
        """,
    )["c"]
    assert spec.volumes == (
        VolumeSpec("data", "/var/lib/data"),
        VolumeSpec("logs", "/logs"),
        VolumeSpec("data", "/again"),
    )
    assert spec.mounts == (
        MountSpec("src", "/app/src", True),
        MountSpec("conf", "/etc/conf", False),
        MountSpec(".", "/all", True),
    )


def test_bind_mount_is_relative_to_the_compose_files_directory(tmp_path: Path) -> None:
    lab = tmp_path / "lab"
    (lab / "src").mkdir(parents=True)
    path = lab / "compose.yaml"
    path.write_text("services:\n  c:\n    image: x\n    volumes: ['./src:/src']\n")
    (spec,) = read_compose(path, tmp_path, project="t")
    assert spec.mounts == (MountSpec("src", "/src", False),)
    path.write_text("services:\n  c:\n    image: x\n    volumes: ['../:/up']\n")
    with pytest.raises(
        ConfigError,
        match=re.escape(f"{path}:4: services.c.volumes[0]: bind mount '../' is outside"),
    ):
        read_compose(path, tmp_path, project="t")


@pytest.mark.parametrize("source", ["..", "../x", "/etc", "~/x"])
def test_bind_mount_outside_the_compose_directory_is_an_error(tmp_path: Path, source: str) -> None:
    message = _error(
        tmp_path, f"services:\n  c:\n    image: x\n    volumes:\n      - {source}:/x\n"
    )
    assert message.startswith(f"5: services.c.volumes[0]: bind mount {source!r} is outside")


def test_bind_mount_of_a_missing_path_is_an_error(tmp_path: Path) -> None:
    message = _error(tmp_path, "services:\n  c:\n    image: x\n    volumes: ['./nope:/x']\n")
    assert message.startswith("4: services.c.volumes[0]: bind mount './nope': no such path")


def test_depends_on_as_list_and_mapping(tmp_path: Path) -> None:
    specs = _read(
        tmp_path,
        """
        services:
          a: {image: x, depends_on: [b, c]}
          b:
            image: x
            depends_on:
              c: {condition: service_healthy}
          c: {image: x}
        """,
    )
    assert specs["a"].depends_on == ("b", "c")
    assert specs["b"].depends_on == ("c",)
    assert specs["c"].depends_on == ()


def test_healthcheck_test_forms(tmp_path: Path) -> None:
    specs = _read(
        tmp_path,
        """
        services:
          cmd:
            image: x
            ports: [80]
            healthcheck:
              test: [CMD, curl, -f, "http://localhost/"]
              interval: 5s
              timeout: 500ms
              retries: 3
              start_period: 1m30s
              start_interval: 1s
          shell: {image: x, healthcheck: {test: [CMD-SHELL, "curl -f http://x/ || exit 1"]}}
          text: {image: x, healthcheck: {test: "pg_isready -U shop"}}
          none: {image: x, ports: [80], healthcheck: {test: [NONE]}}
          off: {image: postgres:16, ports: [5432], healthcheck: {disable: true}}
        """,
    )
    assert specs["cmd"].health == HealthCheck(
        "command", "", timeout_s=150.0, poll_s=0.5, command=("curl", "-f", "http://localhost/")
    )
    assert specs["shell"].health == HealthCheck(
        "command", "", poll_s=0.5, command=("sh", "-c", "curl -f http://x/ || exit 1")
    )
    assert specs["text"].health == HealthCheck(
        "command", "", poll_s=0.5, command=("sh", "-c", "pg_isready -U shop")
    )
    assert specs["none"].health is None
    assert specs["off"].health is None


def test_the_projects_health_overrides_a_healthcheck(tmp_path: Path) -> None:
    specs = _read(
        tmp_path,
        """
        services:
          web: {image: x, ports: [80], healthcheck: {test: [CMD, "true"]}}
          db: {image: postgres:16, ports: [5432]}
          tcp: {image: x, ports: [80]}
        """,
        health=(
            HealthSpec("web", http="/health", port=8080),
            HealthSpec("db", command="pg_isready -U shop"),
            HealthSpec("tcp", port=80),
        ),
    )
    assert specs["web"].health == HealthCheck("http", "8080", path="/health")
    assert specs["web"].ports == (
        PortSpec("80", 80),
        PortSpec("8080", 8080, "http://{host}:{port}"),
    )
    assert specs["db"].health == HealthCheck(
        "command", "", command=("sh", "-c", "pg_isready -U shop")
    )
    assert specs["tcp"].health == HealthCheck("tcp", "80")


def test_cap_add_mem_limit_working_dir_user(tmp_path: Path) -> None:
    spec = _read(
        tmp_path,
        """
        services:
          c:
            image: x
            cap_add: [NET_ADMIN, SYS_PTRACE]
            mem_limit: 256m
            working_dir: /app
            user: "1000:1000"
        """,
    )["c"]
    assert spec.cap_add == ("NET_ADMIN", "SYS_PTRACE")
    assert spec.mem_limit == "256m"
    assert spec.working_dir == "/app"
    assert spec.user == "1000:1000"
    bare = _read(tmp_path, "services:\n  c: {image: x}\n")["c"]
    assert (bare.cap_add, bare.mem_limit, bare.working_dir, bare.user) == ((), None, "", "")


def test_extension_fields_and_keys_without_effect_are_accepted(tmp_path: Path) -> None:
    text = """
        version: "3.9"
        name: shop
        x-common: &common {restart: always}
        services:
          c:
            x-note: anything [at all]
            image: x
            restart: always
            networks: [back]
            container_name: c1
            hostname: c
            labels: {a: b}
            logging: {driver: none}
            stop_grace_period: 5s
            stop_signal: SIGINT
            tty: true
            stdin_open: true
            init: true
            platform: linux/amd64
            pull_policy: never
        networks:
          back:
        """
    assert _read(tmp_path, text)["c"] == ServiceSpec(
        "c", "x", description="Compose service c (compose.yaml)"
    )


def test_build_context_with_a_dockerfile(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "Dockerfile").write_text("FROM scratch\n")
    specs = _read(
        tmp_path,
        """
        services:
          Api: {build: ./api}
          worker: {build: {context: api}, image: mine/worker:1}
        """,
    )
    assert specs["Api"].build == "api"
    assert specs["Api"].image == "drillbook-project/t-api:latest"
    assert specs["worker"].build == "api"
    assert specs["worker"].image == "mine/worker:1"


# -- interpolation --------------------------------------------------------------------------


def test_defaults_and_literal_dollars(tmp_path: Path) -> None:
    spec = _read(
        tmp_path,
        """
        services:
          c:
            image: ${IMAGE:-postgres:16}
            ports: [5432]
            environment:
              A: ${X:-def}
              B: ${X-d2}
              C: a$$b
              D: "${Y:-}"
              E: pre-${X:-mid}-post
              F: "$$HOME"
        """,
    )["c"]
    assert spec.image == "postgres:16"
    assert spec.health == HealthCheck("postgres", "5432")
    assert spec.env_dict() == {
        "A": "def",
        "B": "d2",
        "C": "a$b",
        "D": "",
        "E": "pre-mid-post",
        "F": "$HOME",
    }


def test_a_secret_stays_a_reference_and_is_given_only_to_its_services(tmp_path: Path) -> None:
    specs = _read(
        tmp_path,
        """
        services:
          web:
            image: x
            environment:
              DATABASE_URL: postgresql://shop:${DB_PASSWORD}@db/shop
              PLAIN: $DB_PASSWORD
          db:
            image: postgres:16
            environment: ["POSTGRES_PASSWORD=${DB_PASSWORD}"]
          other: {image: x}
        """,
        secrets={"DB_PASSWORD": ("web", "db"), "TOKEN": ("other",)},
    )
    assert dict(specs["web"].env)["DATABASE_URL"] == "postgresql://shop:${DB_PASSWORD}@db/shop"
    assert dict(specs["web"].env)["PLAIN"] == "${DB_PASSWORD}"
    assert specs["web"].secrets == ("DB_PASSWORD",)
    assert specs["db"].secrets == ("DB_PASSWORD",)
    assert specs["other"].secrets == ("TOKEN",)
    env = specs["web"].env_dict({"DB_PASSWORD": "s3cret", "TOKEN": "t"})
    assert env == {
        "DATABASE_URL": "postgresql://shop:s3cret@db/shop",
        "PLAIN": "s3cret",
        "DB_PASSWORD": "s3cret",
    }


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("command", "echo ${TOKEN}", "services.c.command"),
        ("command", "[echo, $TOKEN]", "services.c.command[1]"),
        ("entrypoint", "${TOKEN}", "services.c.entrypoint"),
        ("image", "x:${TOKEN}", "services.c.image"),
        ("healthcheck", '{test: "curl -H ${TOKEN} x"}', "services.c.healthcheck.test"),
    ],
)
def test_a_secret_outside_environment_is_an_error(
    tmp_path: Path, field: str, value: str, where: str
) -> None:
    message = _error(
        tmp_path,
        f"services:\n  c:\n    image: x\n    {field}: {value}\n".replace(
            "    image: x\n    image:", "    image:"
        ),
        secrets={"TOKEN": ("c",)},
    )
    line = 3 if field == "image" else 4
    assert message.startswith(
        f"{line}: {where}: the generated secret ${{TOKEN}} can be used in environment: only"
    ), message


def test_an_unset_variable_names_its_line_and_the_secrets_hint(tmp_path: Path) -> None:
    message = _error(
        tmp_path,
        """
        services:
          c:
            image: x
            environment:
              OK: ${A:-1}
              API_KEY: ${API_KEY}
        """,
    )
    assert message.startswith("6: services.c.environment.API_KEY: variable ${API_KEY} is not set")
    assert "Hint: list API_KEY under secrets: in drillbook.yaml" in message
    assert "${API_KEY:-value}" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("${TOKEN:?give a token}", "${TOKEN} is required: give a token"),
        ("${TOKEN?}", "${TOKEN} is required: not set"),
        ("${}", "malformed variable ${}"),
        ("'${TOKEN'", "malformed variable ${TOKEN"),
    ],
)
def test_required_and_malformed_variables(tmp_path: Path, value: str, expected: str) -> None:
    message = _error(
        tmp_path, f"services:\n  c:\n    image: x\n    environment:\n      T: {value}\n"
    )
    assert message.startswith(f"5: services.c.environment.T: {expected}"), message


@pytest.mark.parametrize(
    ("value", "expected"), [('"5$$"', "5$"), ('"a$$ b"', "a$ b"), ('"$$$$"', "$$")]
)
def test_literal_dollar_before_a_non_name_character(
    tmp_path: Path, value: str, expected: str
) -> None:
    spec = _read(tmp_path, f"services:\n  c:\n    image: x\n    environment:\n      A: {value}\n")[
        "c"
    ]
    assert spec.env_dict() == {"A": expected}


def test_nested_default_is_refused(tmp_path: Path) -> None:
    """Compose reads ${X:-${Y:-z}} as z; drillbook refuses it rather than pass '${Y:-z}'."""
    message = _error(
        tmp_path, "services:\n  c:\n    image: x\n    environment:\n      A: ${X:-${Y:-z}}\n"
    )
    assert message.startswith("5: services.c.environment.A: a nested default"), message


def test_interpolation_in_volumes_and_working_dir(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    spec = _read(
        tmp_path,
        """
        services:
          c:
            image: x
            volumes: ["${SRC:-./src}:/src"]
            working_dir: ${WD:-/app}
        """,
    )["c"]
    assert spec.mounts == (MountSpec("src", "/src", False),)
    assert spec.working_dir == "/app"


# -- errors, each with its line and field ---------------------------------------------------

ERRORS = [
    pytest.param(
        "services:\n  c:\n    image: [x\n",
        "4: not valid YAML: expected ',' or ']', but got '<stream end>'",
        id="syntax-error",
    ),
    pytest.param("- a\n- b\n", "1: compose: expected a mapping", id="not-a-mapping"),
    pytest.param("", "1: compose: the file is empty; expected services:", id="empty"),
    pytest.param(
        "version: '3'\nname: x\n", "1: compose: missing field 'services'", id="no-services"
    ),
    pytest.param(
        "services: [a]\n",
        "1: services: expected a mapping of services, got a list",
        id="services-list",
    ),
    pytest.param(
        "services:\n  c: {image: x}\nconfigs: {}\n",
        "3: compose: unknown field 'configs'",
        id="unknown-top-key",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    privileged: true\n",
        "4: services.c.privileged: not supported by the Docker lab",
        id="unknown-service-key",
    ),
    pytest.param(
        "services:\n  c:\n    deploy: {replicas: 2}\n",
        "3: services.c.deploy: not supported by the Docker lab",
        id="unknown-key-before-image",
    ),
    pytest.param(
        "services:\n  c:\n    restart: always\n",
        "3: services.c: expected image: or build:",
        id="no-image",
    ),
    pytest.param(
        "services:\n  c: redis\n",
        "2: services.c: expected a mapping, got 'redis'",
        id="service-not-mapping",
    ),
    pytest.param(
        "services:\n  'a b': {image: x}\n", "2: services.a b: expected a name", id="bad-name"
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    ports:\n      - '8080:80'\n      - '53:53/udp'\n",
        "6: services.c.ports[1]: the lab publishes tcp ports only, got 'udp'",
        id="udp-port",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    expose: ['53/udp']\n",
        "4: services.c.expose[0]: the lab publishes tcp ports only, got 'udp'",
        id="udp-expose",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    ports:\n      - target: 53\n        protocol: udp\n",
        "6: services.c.ports[0].protocol: the lab publishes tcp only",
        id="udp-long-form",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    ports: ['http']\n",
        "4: services.c.ports[0]: expected a container port (8080, \"8080:80\"), got 'http'",
        id="bad-port",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    ports:\n      - 65536\n",
        "5: services.c.ports[0]: expected a container port",
        id="port-too-big",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    ports: ['8000-8001:80-81']\n",
        "4: services.c.ports[0]: expected a container port",
        id="port-range",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    ports:\n      - {published: 80}\n",
        "5: services.c.ports[0]: missing field 'target'",
        id="long-port-no-target",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    volumes:\n      - data:/d\nvolumes:\n  logs:\n",
        "5: services.c.volumes[0]: volume 'data' is not declared under the top-level volumes:",
        id="undeclared-volume",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    volumes:\n      - /var/lib/data\n",
        "5: services.c.volumes[0]: an anonymous volume: give it a name (NAME:/path)",
        id="anonymous-volume",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    volumes: ['data:rel']\nvolumes: {data: }\n",
        "4: services.c.volumes[0]: expected an absolute path inside the container: 'rel'",
        id="relative-target",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    volumes:\n      - {type: tmpfs, target: /t}\n",
        "5: services.c.volumes[0].type: expected volume or bind, got 'tmpfs'",
        id="tmpfs",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    volumes: ['d:/d']\nvolumes: [d]\n",
        "5: volumes: expected a mapping of volume names, got a list",
        id="volumes-list",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    depends_on:\n      - c2\n",
        "5: services.c.depends_on[0]: no other service 'c2' in this file",
        id="depends-on-unknown",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    depends_on:\n"
        "      nope: {condition: service_started}\n",
        "5: services.c.depends_on[0]: no other service 'nope' in this file",
        id="depends-on-unknown-mapping",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    depends_on: [c]\n",
        "4: services.c.depends_on[0]: no other service 'c' in this file",
        id="depends-on-itself",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    healthcheck:\n"
        "      test: [CMD, 'true']\n      interval: 5x\n",
        "6: services.c.healthcheck.interval: expected a duration like 5s, 1m30s or 500ms: '5x'",
        id="bad-duration",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    healthcheck:\n      test: [CMD]\n      timeout: 10\n",
        "5: services.c.healthcheck.test: CMD needs a command after it",
        id="cmd-without-command",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    healthcheck:\n      test: [curl, x]\n",
        "5: services.c.healthcheck.test: expected [CMD, ...], [CMD-SHELL, TEXT] or [NONE]",
        id="test-without-cmd",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    healthcheck:\n      interval: 5s\n",
        "5: services.c.healthcheck: missing field 'test'",
        id="healthcheck-without-test",
    ),
    pytest.param(
        "services:\n  c:\n    build: .\n",
        "3: services.c.build: no Dockerfile in the build context '.'",
        id="build-without-dockerfile",
    ),
    pytest.param(
        "services:\n  c:\n    build:\n      context: ..\n",
        "4: services.c.build.context: build context '..' is outside",
        id="build-outside",
    ),
    pytest.param(
        'services:\n  c:\n    image: x\n    command: "echo \'x"\n',
        "4: services.c.command: cannot split the command: No closing quotation",
        id="unsplittable-command",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    environment: A=1\n",
        "4: services.c.environment: expected a mapping or a list of KEY=VALUE, got 'A=1'",
        id="environment-text",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    environment:\n      - A=1\n      - PASSED_THROUGH\n",
        "6: services.c.environment[1]: expected KEY=VALUE, got 'PASSED_THROUGH'",
        id="environment-pass-through",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    env_file: missing.env\n",
        "4: services.c.env_file: env_file 'missing.env': no such path",
        id="env-file-missing",
    ),
    pytest.param(
        "services:\n  c:\n    image: x\n    cap_add: []\n",
        "4: services.c.cap_add: expected a non-empty list, got an empty list",
        id="cap-add-empty",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ERRORS)
def test_errors_name_their_line_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_compose(path, tmp_path, project="t")
    assert str(info.value).startswith(f"{path}:{expected}"), str(info.value)


def test_env_file_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    message = _error(tmp_path, "services:\n  c:\n    image: x\n    env_file: conf\n")
    assert message.startswith("4: services.c.env_file:")


def test_env_file_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "bin.env").write_bytes(b"A=\xff\n")
    message = _error(tmp_path, "services:\n  c:\n    image: x\n    env_file: bin.env\n")
    assert "bin.env" in message


# -- fuzz: a Compose file mutated inside a project, through check-project -------------------

PROJECT = {
    "drillbook.yaml": """\
name: mini
runbook: runbook.md
lab:
  compose: compose.yaml
secrets:
  DB_PASSWORD: [web]
drills:
  - drills/d.yaml
""",
    "drills/d.yaml": """\
name: d
procedure: Suspected Breach
fault: {scheduled: {what: a suspected breach}}
steps:
  - name: look
    run: {service: web, command: "true"}
""",
    "src/Dockerfile": "FROM scratch\n",
    "app.env": "MODE=test\n",
}
COMPOSE = """\
x-common: &common
  restart: unless-stopped
services:
  web:
    build: {context: ./src}
    image: shop/web:1
    command: ["serve", "--port", "8080"]
    entrypoint: /entry.sh
    environment:
      DATABASE_URL: postgresql://shop:${DB_PASSWORD}@db/shop
      LEVEL: ${LEVEL:-info}
    env_file: app.env
    ports: ["127.0.0.1:8080:8080", {target: 9000}]
    expose: ["9100"]
    volumes: ["./src:/src:ro", "cache:/cache"]
    depends_on:
      db: {condition: service_healthy}
    healthcheck:
      test: [CMD-SHELL, "curl -f http://localhost:8080/ || exit 1"]
      interval: 5s
      start_period: 10s
    cap_add: [NET_ADMIN]
    mem_limit: 256m
    working_dir: /app
    user: "1000"
    <<: *common
  db:
    image: postgres:16
    environment: [POSTGRES_PASSWORD=x, POSTGRES_DB=shop]
    ports: ["5432"]
    healthcheck: {test: "pg_isready", timeout: 2s}
volumes:
  cache:
networks:
  default:
"""

_ROOT = Path(tempfile.mkdtemp(prefix="drillbook-compose-fuzz-")) / "mini"
_ROOT.mkdir()
shutil.copy(SHOP / "runbook.md", _ROOT / "runbook.md")
for _name, _text in PROJECT.items():
    (_ROOT / _name).parent.mkdir(parents=True, exist_ok=True)
    (_ROOT / _name).write_text(_text, encoding="utf-8")
atexit.register(shutil.rmtree, _ROOT.parent, True)

FUZZ = settings(suppress_health_check=[HypothesisHealthCheck.too_slow], deadline=None)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 70_000),
    st.text(max_size=12),
    st.sampled_from(
        [
            "web",
            "db",
            "cache",
            "80",
            "8080:80",
            "53/udp",
            "./src",
            "../x",
            "/abs",
            "cache:/c",
            "${DB_PASSWORD}",
            "${UNSET}",
            "${A:-b}",
            "$$",
            "${X:?no}",
            "CMD",
            "NONE",
            "5s",
            "5x",
            "x-ext",
            "privileged",
            "tmpfs",
            "bind",
            "volume",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["target", "source", "type", "test", "x"]) | st.text(max_size=8),
            inner,
            max_size=3,
        )
    ),
    max_leaves=6,
)


@st.composite
def compose_yaml_mutated(draw: st.DrawFn) -> str:
    doc = yaml.safe_load(COMPOSE)
    path = draw(st.sampled_from(paths(doc)))
    action = draw(st.sampled_from(["replace", "delete", "add"]))
    return yaml.safe_dump(mutate(doc, path, action, draw(values)), allow_unicode=True)


def _web_is_a_service(text: str) -> bool:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return True
    services = doc.get("services") if isinstance(doc, dict) else None
    return isinstance(services, dict) and "web" in services


def _check(text: str) -> None:
    compose = _ROOT / "compose.yaml"
    compose.write_text(text, encoding="utf-8", errors="surrogatepass")
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(["check-project", str(_ROOT)])  # an exception here fails the test
    message = err.getvalue()
    assert code in (0, 2), (code, message)
    assert "Traceback" not in message
    if code == 0:
        assert out.getvalue().startswith("project 'mini'"), out.getvalue()
        return
    assert out.getvalue() == ""
    if re.match(rf"drillbook: error: {re.escape(str(_ROOT / 'drillbook.yaml'))}:\d+: ", message):
        # the only drillbook.yaml complaint a Compose edit can cause: web is gone
        assert not _web_is_a_service(text), message
        return
    assert re.match(rf"drillbook: error: {re.escape(str(compose))}:\d+: ", message), message


def test_the_fuzz_base_project_is_valid() -> None:
    _check(COMPOSE)


@FUZZ
@given(compose_yaml_mutated())
def test_compose_mutated_as_yaml(text: str) -> None:
    _check(text)


@FUZZ
@given(text_mutated(COMPOSE) | st.text(max_size=200))
def test_compose_mutated_as_text(text: str) -> None:
    _check(text)
