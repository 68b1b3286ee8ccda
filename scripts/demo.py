"""``make demo``: run the example pipeline ``tengr_catalog_refresh`` end to end with real Airflow.

Against the local emulator by default (no key, no network); against tengr.ai when ``TENGR_API_KEY``
is set (``TENGR_BASE_URL`` overrides the base URL). The Airflow home lives in ``.airflow/`` inside the
project, so a second run reuses the migrated database; images land in ``demo-output/<time>/``, with
``index.html``, a contact sheet of source → restyled → upscaled (``scripts/contact_sheet.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
AIRFLOW_HOME = PROJECT / ".airflow"
OUTPUT = PROJECT / "demo-output"
DAG_ID = "tengr_catalog_refresh"
DEMO_PHOTOS = ["sneaker-red", "mug-ceramic", "lamp-brass"]


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def airflow_env(connection: str) -> dict[str, str]:
    """The environment of every Airflow command of the demo (the key travels only in this env)."""
    return {
        **os.environ,
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags_examples"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_TENGR_DEFAULT": connection,
    }


def airflow(*args: str, env: dict[str, str], progress: bool = False) -> None:
    """Run an Airflow CLI command, its output going to a log file; show progress while it runs."""
    log_path = AIRFLOW_HOME / "demo-last-command.log"
    AIRFLOW_HOME.mkdir(exist_ok=True)
    command = [str(Path(sys.executable).with_name("airflow")), *args]
    started = time.monotonic()
    with log_path.open("w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        while process.poll() is None:
            time.sleep(0.5)
            if progress and int(time.monotonic() - started) % 5 == 0:
                print(f"    ... {time.monotonic() - started:.0f} s", flush=True)
                time.sleep(0.5)
    if process.returncode != 0:
        print("".join(log_path.read_text().splitlines(keepends=True)[-40:]))
        raise SystemExit(f"airflow {' '.join(args)} failed (exit {process.returncode}); full log: {log_path}")


def ensure_metadata_db(env: dict[str, str]) -> None:
    marker = AIRFLOW_HOME / ".migrated"
    if marker.exists():
        step(f"Airflow home {AIRFLOW_HOME} is ready (reused)")
        return
    step(f"Initialising Airflow home {AIRFLOW_HOME} (first run only, ~5 s)")
    AIRFLOW_HOME.mkdir(exist_ok=True)
    airflow("db", "migrate", env=env)
    marker.touch()


def contact_sheet(run_output: Path, env: dict[str, str]) -> Path:
    """Write the run's ``index.html`` (source → restyled → upscaled) and return its path."""
    import requests
    from contact_sheet import chain_rows, write_contact_sheet

    os.environ.update(env)  # the hook reads the same connection and Airflow home as the run
    from tengr_provider.hooks.tengr import TengrHook

    hook = TengrHook()

    def fetch(url: str, target: Path) -> None:
        answer = requests.get(url, timeout=60)
        answer.raise_for_status()
        target.write_bytes(answer.content)

    rows = chain_rows(run_output, lambda artwork_id: hook.get_artwork(artwork_id).to_api(), fetch)
    return write_contact_sheet(run_output, rows, f"{DAG_ID} — {run_output.name}")


def main() -> int:
    started = time.monotonic()
    run_output = OUTPUT / time.strftime("%Y%m%d-%H%M%S")
    conf: dict[str, object] = {"output_path": run_output.as_uri()}
    # The connection's api_version extra (v1 or v2); the emulator serves both.
    api_version = os.environ.get("TENGR_API_VERSION", "v1").strip().lower()
    with ExitStack() as stack:
        api_key = os.environ.get("TENGR_API_KEY")
        emulator = None
        if api_key:
            base_url = os.environ.get("TENGR_BASE_URL", "https://api.tengr.ai")
            step(
                f"Using tengr.ai at {base_url}, API {api_version} (TENGR_API_KEY is set; this spends credits)"
            )
            connection = json.dumps(
                {
                    "conn_type": "tengr",
                    "host": base_url,
                    "password": api_key,
                    "extra": {"api_version": api_version},
                }
            )
        else:
            from tengr_provider.testing import TengrEmulator

            emulator = stack.enter_context(TengrEmulator(processing_seconds=2.0))
            step(
                f"Started the local tengr.ai emulator at {emulator.url}, API {api_version} "
                "(set TENGR_API_KEY to use tengr.ai, TENGR_API_VERSION=v2 for API V2)"
            )
            connection = emulator.connection_json_for(api_version)
            conf["product_photos"] = [emulator.sample_image_url(name) for name in DEMO_PHOTOS]
        env = airflow_env(connection)
        ensure_metadata_db(env)
        step(f"Running {DAG_ID} with `airflow dags test` (restyle -> upscale x4 -> store)")
        airflow("dags", "test", DAG_ID, "--conf", json.dumps(conf), env=env, progress=True)
        stats = emulator.stats() if emulator else None
        # While the API (or emulator) still answers: read the artworks, copy the source photos.
        sheet = contact_sheet(run_output, env)
    files = sorted(p for p in run_output.rglob("*") if p.is_file())
    print()
    print(f"  DAG            {DAG_ID}: success (tengr.ai API {api_version})")
    print(
        f"  tasks          {len(DEMO_PHOTOS)} restyle + {len(DEMO_PHOTOS)} upscale (mapped, deferrable) + 2"
    )
    if stats is not None:
        print(f"  artworks       {stats.artworks_created} created ({stats.artworks_created_by_type})")
    print(f"  files          {len(files)} under {run_output}")
    for path in files:
        print(f"                 {path.relative_to(run_output)}  ({path.stat().st_size // 1024} KiB)")
    print(f"  contact sheet  {sheet}")
    print(f"  wall time      {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
