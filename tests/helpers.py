"""Values and small helpers shared by the test modules."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

#: The Airflow version the suite runs on (3.3 is the main target, 3.0 the floor). Read from the
#: package metadata: importing Airflow here would fix its configuration before conftest sets it up.
AIRFLOW_VERSION = Version(version("apache-airflow"))
#: Airflow 3.3 brought the task state store, which makes retries resume instead of resubmitting.
HAS_TASK_STATE_STORE = Version("3.3") <= AIRFLOW_VERSION

#: Returns everything logged so far, whichever logging stack Airflow uses (see the ``logs`` fixture).
LogText = Callable[[], str]

#: A key that must never show up in logs, errors, XComs or reprs; tests scan for it.
SECRET_KEY = "tk-secret-0123456789abcdef"
BASE_URL = "https://api.tengr.test"


def connection_env(conn_id: str = "tengr_default", **fields: object) -> tuple[str, str]:
    """The environment variable that defines a tengr connection to BASE_URL with SECRET_KEY."""
    value = {"conn_type": "tengr", "host": BASE_URL, "password": SECRET_KEY, **fields}
    return f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(value)


class FakeTaskInstance:
    """The slice of a running task instance the operators use: XCom pushes (recorded) and stats tags."""

    def __init__(self) -> None:
        self.xcoms: dict[str, object] = {}
        self.stats_tags: dict[str, str] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.xcoms[key] = value


class FakeTaskStateStore(dict[str, object]):
    """Airflow 3.3's task state store, as the resumable mixin uses it (``get`` and ``set``)."""

    def set(self, key: str, value: object) -> None:
        self[key] = value


def task_context(store: FakeTaskStateStore | None = None) -> dict[str, object]:
    """A minimal task context: a task instance and (optionally) a task state store."""
    context: dict[str, object] = {"ti": FakeTaskInstance()}
    if store is not None:
        context["task_state_store"] = store
    return context


REPO = Path(__file__).resolve().parent.parent
#: Human-in-the-loop operators (providers-standard) need Airflow 3.1.
HAS_HUMAN_IN_THE_LOOP = Version("3.1") <= AIRFLOW_VERSION
#: Example DAGs that use them; below Airflow 3.1 they cannot even be imported.
HUMAN_IN_THE_LOOP_EXAMPLES = frozenset({"tengr_review_before_print.py"})
#: The example DAGs users copy from that this Airflow can run; the suite runs every one of them.
EXAMPLE_DAG_FILES = sorted(
    path
    for path in (REPO / "dags_examples").glob("*.py")
    if HAS_HUMAN_IN_THE_LOOP or path.name not in HUMAN_IN_THE_LOOP_EXAMPLES
)
#: Where the documentation's DAGs write; tests replace it with a folder of their own.
DOCS_OUTPUT_PREFIX = "file:///tmp/tengr"
_PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def docs_dag_blocks() -> dict[str, str]:
    """Every code block of the README and docs/ that defines a DAG, keyed by a file name from its page."""
    blocks = {}
    for page in [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]:
        for number, block in enumerate(_PYTHON_BLOCK.findall(page.read_text())):
            if "DAG(" in block or "@dag" in block:
                stem = re.sub(r"[^a-z0-9]+", "_", page.relative_to(REPO).with_suffix("").as_posix().lower())
                blocks[f"docs_{stem}_{number}.py"] = block
    return blocks


def assemble_dags_folder(airflow_home: Path) -> Path:
    """A DAGs folder with the integration DAGs, the example DAGs and the docs' DAGs.

    The docs' DAGs write under ``airflow_home`` instead of ``/tmp/tengr``.
    """
    folder = airflow_home / "dags"
    folder.mkdir(parents=True, exist_ok=True)
    for source in [*(REPO / "tests" / "integration" / "dags").glob("*.py"), *EXAMPLE_DAG_FILES]:
        shutil.copy(source, folder / source.name)
    output_root = (airflow_home / "docs-output").as_uri()
    for name, code in docs_dag_blocks().items():
        (folder / name).write_text(code.replace(DOCS_OUTPUT_PREFIX, output_root))
    return folder


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], object], timeout: float, what: str, every: float = 0.5) -> Any:
    """Poll ``condition`` until it returns something truthy; return it, or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


#: Where a process tier (deployment, UI) keeps its processes' logs, for the report of a failed test.
TIER_LOGS = pytest.StashKey[Path]()


def tier_environment(home: Path, dags: Path, venv_bin: Path) -> dict[str, str]:
    """What a tier's Airflow processes start from: this environment without the test run's own Airflow
    settings and connections, with their home, DAGs folder and the venv's programs."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_"))
    }
    env.update(
        {
            "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        }
    )
    return env


def keep_tier_out_unless_asked(
    config: pytest.Config, items: list[pytest.Item], marker: str, folder: Path
) -> None:
    """Deselect the tests under ``folder`` unless the run asked for ``-m <marker>``: a tier that starts
    its own processes runs only when asked for, never as part of ``make test``."""
    expression = config.option.markexpr or ""
    if marker in expression.split() and f"not {marker}" not in expression:
        return
    kept = [item for item in items if folder not in Path(str(item.path)).parents]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


def point_failures_at_tier_logs(item: pytest.Item, report: pytest.TestReport, title: str) -> None:
    """Add where the tier's process logs are to a failed test's report."""
    logs = item.config.stash.get(TIER_LOGS, None)
    if report.failed and logs is not None:
        report.sections.append((title, f"every process's log is in {logs}{os.sep}"))
