from __future__ import annotations

import re

from drillbook.environments.docker import Resource, new_run_id, select_for_clean, select_for_down
from drillbook.environments.docker._labels import lab_labels


def res(kind: str, name: str, lab: str | None, managed: bool = True) -> Resource:
    labels = lab_labels(lab, "r1") if lab else {}
    if not managed:
        labels = {k: v for k, v in labels.items() if k != "drillbook.managed"}
    return Resource(kind, name, labels)  # type: ignore[arg-type]


RESOURCES = [
    res("volume", "a-postgres-data", "a"),
    res("network", "a-net", "a"),
    res("container", "a-postgres", "a"),
    res("container", "b-redis", "b"),
    res("container", "users-own", None),
    res("container", "spoofed", "a", managed=False),
]


def test_labels_name_lab_run_and_service() -> None:
    assert lab_labels("a", "r1", "postgres") == {
        "drillbook.managed": "true",
        "drillbook.lab": "a",
        "drillbook.run-id": "r1",
        "drillbook.service": "postgres",
    }


def test_down_takes_only_its_own_lab_containers_first() -> None:
    picked = select_for_down(RESOURCES, "a")
    assert [(r.kind, r.name) for r in picked] == [
        ("container", "a-postgres"),
        ("network", "a-net"),
        ("volume", "a-postgres-data"),
    ]


def test_clean_takes_every_managed_leftover_and_nothing_else() -> None:
    names = {r.name for r in select_for_clean(RESOURCES)}
    assert names == {"a-postgres", "a-net", "a-postgres-data", "b-redis"}
    assert {r.name for r in select_for_clean(RESOURCES, "b")} == {"b-redis"}


def test_run_ids_sort_by_time_and_are_unique() -> None:
    first, second = new_run_id(0), new_run_id(86400)
    assert re.fullmatch(r"19700101T000000Z-[0-9a-f]{6}", first)
    assert first < second
    assert len({new_run_id(0) for _ in range(50)}) == 50
