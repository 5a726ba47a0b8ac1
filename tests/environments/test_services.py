from __future__ import annotations

import pytest

from drillbook.environments import SERVICES, HealthCheck, PortSpec, ServiceSpec, resolve_services
from drillbook.environments.docker import LabSettings, parse_port_option
from drillbook.errors import ConfigError, UnknownServiceError


def spec(name: str, *deps: str) -> ServiceSpec:
    return ServiceSpec(name=name, image="python", depends_on=deps, ports=(PortSpec("http", 80),))


CATALOG = (spec("db"), spec("cache"), spec("api", "db", "cache"), spec("web", "api"))


def test_runbook_names_and_protocol_health_checks() -> None:
    by_name = {s.name: s for s in SERVICES}
    assert {"postgres", "redis", "rabbitmq"} <= set(by_name)
    pg = by_name["postgres"]
    assert dict(pg.env)["POSTGRES_DB"] == "trading_bot"
    assert dict(pg.env)["POSTGRES_USER"] == "postgres"
    assert "postgres-service" in pg.aliases  # the runbook's pg_isready -h postgres-service
    assert pg.health == HealthCheck("postgres", "postgres")
    assert by_name["redis"].health == HealthCheck("redis", "redis")
    assert by_name["rabbitmq"].health == HealthCheck("amqp", "amqp", timeout_s=90.0)


def test_passwords_are_generated_secrets_not_constants() -> None:
    pg = next(s for s in SERVICES if s.name == "postgres")
    assert "POSTGRES_PASSWORD" in pg.secrets
    assert "POSTGRES_PASSWORD" not in dict(pg.env)
    assert (
        pg.env_dict({"POSTGRES_PASSWORD": "s3cret", "OTHER": "x"})["POSTGRES_PASSWORD"] == "s3cret"
    )
    assert "OTHER" not in pg.env_dict({"OTHER": "x"})


def test_dependencies_start_first() -> None:
    order = [s.name for s in resolve_services(["web"], CATALOG)]
    assert order.index("db") < order.index("api")
    assert order.index("cache") < order.index("api")
    assert order.index("api") < order.index("web")
    assert len(order) == len(set(order)) == 4


def test_default_is_every_non_optional_service() -> None:
    from dataclasses import replace

    catalog = (*CATALOG, replace(spec("extra"), optional=True))
    assert [s.name for s in resolve_services(None, catalog)] == ["db", "cache", "api", "web"]


def test_unknown_service_is_named_with_the_known_ones() -> None:
    with pytest.raises(UnknownServiceError, match="'nope'") as info:
        resolve_services(["nope"], CATALOG)
    assert "api, cache, db, web" in str(info.value)


def test_dependency_cycle_is_reported() -> None:
    cyclic = (spec("a", "b"), spec("b", "a"))
    with pytest.raises(ConfigError, match="cycle: a -> b -> a"):
        resolve_services(["a"], cyclic)


def test_with_env_returns_a_new_spec() -> None:
    base = spec("db")
    changed = base.with_env(A="1").with_command("run")
    assert dict(changed.env) == {"A": "1"}
    assert changed.command == ("run",)
    assert base.env == ()


def test_port_option_parsing() -> None:
    assert parse_port_option(["postgres=15432", "rabbitmq.amqp=0"]) == {
        "postgres": 15432,
        "rabbitmq.amqp": 0,
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("postgres", "expected SERVICE=PORT"),
        ("postgres=abc", "expected SERVICE=PORT"),
        ("postgres=70000", "from 0 to 65535"),
        ("mysql=3306", "unknown service 'mysql'"),
        ("postgres.http=80", "has no port named 'http'"),
    ],
)
def test_bad_port_options_name_the_option(raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_port_option([raw])


def test_fixed_ports_apply_to_the_primary_port_or_a_named_one() -> None:
    pg = next(s for s in SERVICES if s.name == "postgres")
    assert LabSettings(ports={"postgres": 15432}).host_port(pg, "postgres") == 15432
    assert LabSettings(ports={"postgres.postgres": 5433}).host_port(pg, "postgres") == 5433
    assert LabSettings(ports={"postgres": 0}).host_port(pg, "postgres") is None
    assert LabSettings().host_port(pg, "postgres") is None


def test_lab_names_are_validated() -> None:
    from drillbook.environments.docker._labels import validate_lab_name

    assert validate_lab_name("night-1") == "night-1"
    for bad in ("", "Upper", "-x", "a" * 40, "a b"):
        with pytest.raises(ConfigError, match="lab name"):
            validate_lab_name(bad)
