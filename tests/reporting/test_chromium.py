"""The HTML report in headless Chromium: a synthetic run with a passed and a breached drill
(the real run's page is checked in test_reports_docker.py), and the launcher itself on a fake
Chromium (missing, hanging, failing)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest

from drillbook.errors import DrillbookError
from drillbook.reporting import HeadlessChromium, write_run_html
from support.chromium import dump_dom, expected_verdicts, page_facts, screenshot
from support.journals import load, write_journal


def test_passed_and_breached_drills_render_with_their_verdicts(tmp_path: Path) -> None:
    journal = write_journal(
        tmp_path,
        "run-synthetic",
        {"steps": (("rollout restart deployment/backend", 1.3), ("check logs", 0.4))},
        {"name": "backend-hung", "recovered": False},
    )
    page = write_run_html(journal.parent)
    facts = page_facts(dump_dom(page))
    assert facts.body.get("data-run") == "run-synthetic"
    assert facts.images == 2
    assert facts.body.get("data-images-loaded") == "2/2"  # the page's onload check
    assert facts.body.get("data-images-ok") == "true"
    assert facts.drills == {"backend-killed": "passed", "backend-hung": "breached"}
    assert facts.verdicts == expected_verdicts(load(journal))
    assert facts.verdicts[("backend-hung", "time_to_recover")] == "fail"
    assert facts.verdicts[("backend-killed", "time_to_recover")] == "pass"
    screenshot(page, "synthetic-passed-and-breached.png", height=2600)


def test_a_broken_image_is_reported_by_the_page(tmp_path: Path) -> None:
    journal = write_journal(tmp_path, "run-broken", {})
    page = write_run_html(journal.parent)
    html = page.read_text()
    start = html.index("data:image/svg+xml;base64,") + len("data:image/svg+xml;base64,")
    page.write_text(
        html[:start] + "bm90IGFuIFNWRw==" + html[html.index('"', start) :]
    )  # "not an SVG"
    facts = page_facts(dump_dom(page))
    assert facts.body.get("data-images-loaded") == "0/1"
    assert facts.body.get("data-images-ok") == "false"


def test_a_missing_chromium_is_named_with_the_way_to_install_it(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html></html>")
    with pytest.raises(DrillbookError, match="no 'no-such-chromium' on PATH") as info:
        HeadlessChromium("no-such-chromium").dump_dom(page)
    assert ".ci/bootstrap --report-tools" in str(info.value.hint)


HANGS = """#!/bin/sh
# a Chromium that writes its profile, starts a helper and never finishes
for arg in "$@"; do
  case "$arg" in --user-data-dir=*) profile="${arg#--user-data-dir=}" ;; esac
done
echo "$profile" > "$(dirname "$0")/profile-used"
touch "$profile/Cookies"
sleep 60 &
echo $! > "$(dirname "$0")/helper-pid"
sleep 60
"""


def test_a_chromium_that_hangs_times_out_its_helpers_killed_and_profile_removed(
    tmp_path: Path,
) -> None:
    fake = tmp_path / "fake-chromium"
    fake.write_text(HANGS)
    fake.chmod(0o755)
    page = tmp_path / "page.html"
    page.write_text("<html></html>")
    with pytest.raises(DrillbookError, match=r"did not finish .*page.html within 0.5s"):
        HeadlessChromium(str(fake), timeout_s=0.5).dump_dom(page)
    profile = Path((tmp_path / "profile-used").read_text().strip())
    assert profile.name.startswith("drillbook-chromium-")
    assert not profile.exists()
    helper = int((tmp_path / "helper-pid").read_text())
    assert _gone(helper), "the helper Chromium forked outlived it"


def _gone(pid: int) -> bool:
    """Dead (a zombie not yet reaped counts: it runs nothing)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


FAILS = """#!/bin/sh
echo "ERROR:gpu_init.cc no display" >&2
exit 3
"""


def test_a_chromium_that_fails_says_how_with_its_last_words(tmp_path: Path) -> None:
    fake = tmp_path / "fake-chromium"
    fake.write_text(FAILS)
    fake.chmod(0o755)
    page = tmp_path / "page.html"
    page.write_text("<html></html>")
    before = set(Path(tempfile.gettempdir()).glob("drillbook-chromium-*"))
    with pytest.raises(DrillbookError, match=r"failed on .*page.html \(exit 3\): ERROR:gpu_init"):
        HeadlessChromium(str(fake)).dump_dom(page)
    assert set(Path(tempfile.gettempdir()).glob("drillbook-chromium-*")) == before
