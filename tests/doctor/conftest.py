"""Run ``tengr-doctor`` in-process against an in-process emulator, as a user would run it against tengr.ai."""

from __future__ import annotations

import contextlib
import io
import sys

import pytest
from tests.doctor.support import QUICK, Doctor, DoctorRun

from tengr_provider.testing import TengrEmulator
from tengr_provider.testing.config import DEFAULT_API_KEY, connection_json


@pytest.fixture
def doctor(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Doctor:
    """The ``tengr-doctor`` command, run in this process with ``tengr_default`` set to the emulator."""

    def run(
        target: TengrEmulator | str,
        *args: str,
        version: str = "v1",
        answer: str = "y",
        key: str | None = None,
    ) -> DoctorRun:
        """:param target: an emulator, or a base URL; :param key: another key than the emulator's."""
        url = target if isinstance(target, str) else target.url
        key = key or (DEFAULT_API_KEY if isinstance(target, str) else target.api_key)
        monkeypatch.setenv("AIRFLOW_CONN_TENGR_DEFAULT", connection_json(url, key, version))
        capsys.readouterr()
        report = io.StringIO()
        with contextlib.redirect_stdout(sys.stderr):  # log lines, as the command sends them
            # Imported here: a conftest that imports Airflow at its own import fixes Airflow's home before
            # the suite's root conftest has set it (pytest imports the conftests of named folders first).
            from tengr_provider.doctor.cli import main as doctor_main

            code = doctor_main([*QUICK, *args], ask=lambda prompt: answer, out=report)
        return DoctorRun(code, report.getvalue(), capsys.readouterr().err)

    return run
