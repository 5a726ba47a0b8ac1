"""Reporters: drill-event handlers that write evidence (JSON journal, Allure results, JUnit XML,
the HTML page, the run history), the trends across runs, and the tools that render and check
them (the Allure command line, headless Chromium)."""

from drillbook.reporting._allure_cli import AllureCommandLine
from drillbook.reporting._chromium import HeadlessChromium
from drillbook.reporting._events import DrillLike, RunEventHandler
from drillbook.reporting._history import (
    DrillRecord,
    RunHistory,
    RunRecord,
    append_run,
    git_commit,
    read_history,
    record_of,
)
from drillbook.reporting._trends import Regression, TrendPolicy, find_regressions
from drillbook.reporting.allure import AllureResults
from drillbook.reporting.html import HtmlReport, write_run_html
from drillbook.reporting.journal import JsonJournal, journal_entry
from drillbook.reporting.junit import JUnitXml

__all__ = [
    "AllureCommandLine",
    "AllureResults",
    "DrillLike",
    "DrillRecord",
    "HeadlessChromium",
    "HtmlReport",
    "JUnitXml",
    "JsonJournal",
    "Regression",
    "RunEventHandler",
    "RunHistory",
    "RunRecord",
    "TrendPolicy",
    "append_run",
    "find_regressions",
    "git_commit",
    "journal_entry",
    "read_history",
    "record_of",
    "write_run_html",
]
