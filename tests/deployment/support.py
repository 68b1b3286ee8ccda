"""What the deployment tests read back: creations, trigger firings, worker hand-outs, stored objects."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from tests.deployment.cluster import Deployment

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_FIRED = re.compile(r'"event":"Trigger fired event".*?\'id\': \'([0-9a-f-]{36})\'')
_TRIGGER_LOG = re.compile(r"\.log\.trigger\.(\d+)\.log$")


def created_ids(deployment: Deployment, since: int) -> list[str]:
    """Ids of the artworks the emulator created after its first ``since`` creations."""
    return [artwork["id"] for artwork in deployment.emulator_stats()["artworks"][since:]]


def creation_count(deployment: Deployment) -> int:
    return len(deployment.emulator_stats()["artworks"])


@dataclass(frozen=True)
class Firings:
    """Trigger events of one run, read from the logs every triggerer writes.

    :param per_artwork: how many times a trigger fired for each artwork id.
    :param per_triggerer: how many events each triggerer (by its job id) fired.
    """

    per_artwork: Counter[str]
    per_triggerer: Counter[int]


def trigger_firings(deployment: Deployment, dag_id: str, run_id: str) -> Firings:
    """Every "Trigger fired event" line of the run, each counted once.

    A triggerer writes the line to the trigger's own log file, except when the trigger's "finished"
    message reaches its supervisor before the line does: the supervisor has then closed that file and
    writes the line to the triggerer's process log instead (Airflow's ``logger_cache`` race, seen when
    many triggers finish in one burst). So the file lines and the process-log lines are disjoint, and
    both are read.
    """
    per_artwork: Counter[str] = Counter()
    per_triggerer: Counter[int] = Counter()
    run_logs = deployment.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
    for log in run_logs.rglob("*.log.trigger.*.log"):
        match = _TRIGGER_LOG.search(log.name)
        assert match is not None
        for artwork_id in _FIRED.findall(log.read_text(errors="replace")):
            per_artwork[artwork_id] += 1
            per_triggerer[int(match.group(1))] += 1
    run_name = re.escape(f"{dag_id}/{run_id}/")
    # The console format quotes the event's repr, so its quotes come escaped: \'id\': \'<uuid>\'.
    fired = re.compile(rf"Trigger fired event .*?name='{run_name}.*?\\'id\\': \\'([0-9a-f-]{{36}})")
    for name, text in deployment.logs_of("triggerer"):
        for artwork_id in fired.findall(text):
            per_artwork[artwork_id] += 1
            per_triggerer[deployment.triggerer_jobs[name]] += 1
    return Firings(per_artwork, per_triggerer)


def tasks_per_worker(deployment: Deployment, dag_id: str, run_id: str) -> dict[str, int]:
    """How many task executions of one run each Celery worker started (from its own log)."""
    marker = f"log_path='dag_id={dag_id}/run_id={run_id}/"
    return {name: text.count(marker) for name, text in deployment.logs_of("worker")}


def stored_objects(deployment: Deployment, prefix: str) -> tuple[dict[str, bytes], list[str]]:
    """Final objects under ``prefix`` with their bytes, and the hidden temporary ones left there."""
    keys = deployment.s3_keys(prefix)
    hidden = [key for key in keys if key.rpartition("/")[2].startswith(".")]
    final = {key: deployment.s3_object(key) for key in keys if key not in hidden}
    return final, hidden
