from __future__ import annotations

from drillbook import errors
from drillbook.errors import (
    ConfigError,
    DrillbookError,
    PortInUseError,
    ServiceUnhealthy,
    UnknownServiceError,
)


def test_every_public_error_derives_from_the_root() -> None:
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), DrillbookError), name


def test_tree_in_docstring_names_every_error() -> None:
    assert errors.__doc__ is not None
    for name in errors.__all__:
        assert name in errors.__doc__, f"{name} missing from the tree in the module docstring"


def test_unknown_service_lists_known_names() -> None:
    err = UnknownServiceError("postgress", ["redis", "postgres"])
    assert isinstance(err, ConfigError)
    assert str(err) == "unknown service 'postgress'\nHint: the lab declares: postgres, redis"


def test_port_in_use_says_how_to_choose_another() -> None:
    text = str(PortInUseError("postgres", 5432))
    assert "127.0.0.1:5432" in text
    assert "--port postgres=PORT" in text


def test_unhealthy_carries_numbers_and_log_tail() -> None:
    logs = "\n".join(f"line {i}" for i in range(40))
    err = ServiceUnhealthy("rabbitmq", 30.0, "connection refused", logs)
    assert err.timeout_s == 30.0
    assert "line 39" in str(err)
    assert "line 10" not in str(err)  # only the tail
    assert "--timeout" in str(err)
