"""drillbook.yaml and drill files, fuzzed with Hypothesis through ``drillbook check-project``
in-process: a summary (exit 0) or an error naming a file of the project (exit 2), never a
traceback. Inputs are the example project's files mutated as text (cut, spliced, characters
changed) or as YAML (a field replaced, deleted or added), and text from nothing."""

from __future__ import annotations

import atexit
import contextlib
import io
import shutil
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drillbook.cli import main
from support.mutations import mutate, paths, text_mutated

SHOP = Path(__file__).resolve().parent / "data" / "shop"
FILES = ("drillbook.yaml", "drills/api-killed.yaml", "drills/breach.yaml", "compose.yaml")
TEXTS = {name: (SHOP / name).read_text() for name in FILES}
# a project of manifests: Kubernetes drills (env, pod_kill, kubectl: lines), a manifest
K8S = Path(__file__).resolve().parents[2] / "examples" / "notes" / "kubernetes"
K8S_FILES = (
    "drillbook.yaml",
    "drills/api-pods-killed.yaml",
    "drills/api-cut-from-db.yaml",
    "manifests/notes.yaml",
)
K8S_TEXTS = {name: (K8S / name).read_text() for name in K8S_FILES}
FUZZ = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)

_ROOT = Path(tempfile.mkdtemp(prefix="drillbook-project-fuzz-")) / "shop"
shutil.copytree(SHOP, _ROOT)
_K8S_ROOT = _ROOT.parent / "notes-k8s"
shutil.copytree(K8S, _K8S_ROOT, ignore=shutil.ignore_patterns("sabotaged"))
atexit.register(shutil.rmtree, _ROOT.parent, True)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10_000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["api", "web", "db", "TODO x", "restart", "kill_container", "ApiDown", "/h"]),
    st.sampled_from(["kubernetes", "docker", "pod_kill", "kubectl get pods", "workload_ready"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def yaml_mutated(draw: st.DrawFn, text: str) -> str:
    doc = yaml.safe_load(text)
    path = draw(st.sampled_from(paths(doc)))
    action = draw(st.sampled_from(["replace", "delete", "add"]))
    return yaml.safe_dump(mutate(doc, path, action, draw(values)), allow_unicode=True)


def _check_project(name: str, text: str, root: Path = _ROOT, texts: dict[str, str] = TEXTS) -> None:
    for other, original in texts.items():
        (root / other).write_text(original, encoding="utf-8")
    (root / name).write_text(text, encoding="utf-8", errors="surrogatepass")
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(["check-project", str(root)])  # an exception here fails the test
    assert code in (0, 2), (code, err.getvalue())
    if code == 2:
        assert err.getvalue().startswith(f"drillbook: error: {root}/"), err.getvalue()
        assert out.getvalue() == ""
    else:
        assert out.getvalue().startswith("project "), out.getvalue()
    assert "Traceback" not in err.getvalue()


@FUZZ
@given(st.sampled_from(FILES).flatmap(lambda n: st.tuples(st.just(n), yaml_mutated(TEXTS[n]))))
def test_a_project_file_mutated_as_yaml(case: tuple[str, str]) -> None:
    _check_project(*case)


@FUZZ
@given(
    st.sampled_from(FILES).flatmap(
        lambda n: st.tuples(st.just(n), text_mutated(TEXTS[n]) | st.text(max_size=200))
    )
)
def test_a_project_file_mutated_as_text(case: tuple[str, str]) -> None:
    _check_project(*case)


@FUZZ
@given(
    st.sampled_from(K8S_FILES).flatmap(
        lambda n: st.tuples(
            st.just(n),  # a manifest holds several documents: mutated as text only
            text_mutated(K8S_TEXTS[n])
            if n.startswith("manifests/")
            else yaml_mutated(K8S_TEXTS[n]) | text_mutated(K8S_TEXTS[n]),
        )
    )
)
def test_a_kubernetes_project_file_mutated(case: tuple[str, str]) -> None:
    _check_project(*case, root=_K8S_ROOT, texts=K8S_TEXTS)
