"""The real Allure command line (npm ``allure-commandline``, on the machine's Java): renders a
run's allure-results into a report directory."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from drillbook.errors import ConfigError, DrillbookError

__all__ = ["ALLURE_VERSION", "AllureCommandLine", "project_tools"]

ALLURE_VERSION = "2.46.1"  # what .ci/bootstrap installs under .tools/allure
_HINT = (
    "run .ci/bootstrap --report-tools (it installs allure-commandline from npm into "
    ".tools/allure), "
    "or set DRILLBOOK_ALLURE=/path/to/allure, or pass --allure"
)


def project_tools() -> list[Path]:
    """Where a project-local Allure may be: .tools/ of the checkout drillbook runs from (an
    editable install) and of the current directory."""
    here = Path(__file__).resolve().parents[3]  # src/drillbook/reporting/ -> the checkout
    return [
        base / ".tools" / "allure" / "node_modules" / ".bin" / "allure"
        for base in dict.fromkeys((here, Path.cwd()))
    ]


class AllureCommandLine:
    """``allure generate``; the executable is found as given, in $DRILLBOOK_ALLURE, in the
    project's .tools/, or on PATH. Raises DrillbookError with a hint when Allure or Java is
    missing, ConfigError when the results are not there."""

    def __init__(self, executable: str | None = None) -> None:
        self.given = executable or os.environ.get("DRILLBOOK_ALLURE")

    @property
    def executable(self) -> Path:
        return self._find(self.given)

    @staticmethod
    def _find(given: str | None) -> Path:
        if given:
            path = Path(given)
            if path.is_file() and os.access(path, os.X_OK):
                return path
            found = shutil.which(given)
            if found:
                return Path(found)
            raise DrillbookError(f"the Allure command line {given!r} is not executable", hint=_HINT)
        for candidate in project_tools():
            if candidate.is_file():
                return candidate
        found = shutil.which("allure")
        if found:
            return Path(found)
        raise DrillbookError(
            "the Allure command line is not installed "
            f"(looked in {', '.join(str(p) for p in project_tools())} and on PATH)",
            hint=_HINT,
        )

    @staticmethod
    def java() -> str:
        home = os.environ.get("JAVA_HOME")
        if home and (Path(home) / "bin" / "java").is_file():
            return str(Path(home) / "bin" / "java")
        found = shutil.which("java")
        if not found:
            raise DrillbookError(
                "Allure needs Java and none was found (no java on PATH, JAVA_HOME unset)",
                hint="apt-get install openjdk-17-jre-headless (as .ci/bootstrap does)",
            )
        return found

    def generate(self, results: Path, output: Path, *, timeout_s: float = 300) -> Path:
        """Render ``results`` (a directory of *-result.json) into ``output`` (replaced)."""
        results, output = Path(results), Path(output)
        if not results.is_dir() or not any(results.glob("*-result.json")):
            raise ConfigError(
                f"{results}: no Allure results (*-result.json) there",
                hint="drillbook run writes them under reports/<run-id>/allure-results/",
            )
        executable = self.executable
        self.java()
        try:
            done = subprocess.run(
                [str(executable), "generate", "--clean", str(results), "-o", str(output)],
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise DrillbookError(
                f"allure generate did not finish within {timeout_s:.0f}s"
            ) from None
        if done.returncode != 0 or not (output / "index.html").is_file():
            tail = (done.stderr or done.stdout).strip().splitlines()[-10:]
            raise DrillbookError(
                f"allure generate failed (exit {done.returncode}): " + " | ".join(tail),
                hint=f"run it by hand: {executable} generate {results} -o {output}",
            )
        return output
