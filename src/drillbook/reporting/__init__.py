"""Reporters: drill-event handlers that write evidence (a JSON journal now; Allure, JUnit, HTML
subscribe the same way)."""

from drillbook.reporting._events import DrillLike, RunEventHandler
from drillbook.reporting.allure import AllureResults
from drillbook.reporting.journal import JsonJournal
from drillbook.reporting.junit import JUnitXml

__all__ = ["AllureResults", "DrillLike", "JUnitXml", "JsonJournal", "RunEventHandler"]
