"""Reporters: drill-event handlers that write evidence (a JSON journal now; Allure, JUnit, HTML
subscribe the same way)."""

from drillbook.reporting._events import DrillLike, RunEventHandler
from drillbook.reporting.journal import JsonJournal

__all__ = ["DrillLike", "JsonJournal", "RunEventHandler"]
