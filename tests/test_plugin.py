"""The pytest plugin, run as users run it: a real inner pytest session through pytester."""

from __future__ import annotations

import pytest

from drillbook.engine import docker_client
from drillbook.environments.docker import list_resources


def test_plugin_registers_its_option_and_marker(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--drill-lab-name*"])
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.drill(alert)*"])


@pytest.mark.docker
def test_docker_lab_fixture_starts_a_lab_and_removes_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import psycopg

        def test_uses_lab(docker_lab):
            pg = docker_lab.services()["postgres"]
            with psycopg.connect(pg.url) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
        """
    )
    result = pytester.runpytest_subprocess(
        "--drill-lab-name", "pytester-lab", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1)
    client = docker_client()
    try:
        assert [
            r for r in list_resources(client) if r.labels.get("drillbook.lab") == "pytester-lab"
        ] == []
    finally:
        client.close()
