"""Which connection the doctor checks: an Airflow connection, read as Airflow reads it, or a URL and key.

A task reads its connection from ``AIRFLOW_CONN_*`` variables, the configured secrets backends and the
metadata database. Outside a task the Task SDK sees only the variables, so ``--conn-id`` goes through
Airflow core's own lookup (``Connection.get_connection_from_secrets``), which searches all three in
the order a deployment configured.
"""

from __future__ import annotations

import json
import os

import attrs

from tengr_provider import CONNECTION_TYPE
from tengr_provider.version_compat import BaseHook, Connection

#: The connection id the doctor gives a ``--base-url`` connection.
COMMAND_LINE_CONN_ID = "tengr_doctor_command_line"


class ConnectionNotFoundError(Exception):
    """The connection cannot be read; the message says where it was looked for."""


def from_airflow(conn_id: str) -> Connection:
    """The Airflow connection ``conn_id``: environment variables, secrets backends, metadata database.

    :raises ConnectionNotFoundError: it is not defined anywhere, or the metadata database cannot be read.
    """
    try:
        from airflow.models.connection import Connection as CoreConnection
    except ImportError:  # a Task SDK-only installation: environment variables and secrets backends
        lookup = BaseHook.get_connection
    else:
        lookup = CoreConnection.get_connection_from_secrets
    try:
        found = lookup(conn_id)
    except Exception as exc:
        raise ConnectionNotFoundError(
            f"connection {conn_id!r} could not be read ({type(exc).__name__}: {exc}); the doctor looks "
            "where a task does: AIRFLOW_CONN_* environment variables, the secrets backends and the "
            "metadata database of this AIRFLOW_HOME"
        ) from None
    return Connection(
        conn_id=conn_id,
        conn_type=found.conn_type or CONNECTION_TYPE,
        host=found.host,
        schema=found.schema,
        port=found.port,
        password=found.password,
        extra=json.dumps(found.extra_dejson),
    )


def from_command_line(base_url: str, api_key_env: str) -> Connection:
    """A connection to ``base_url`` with the key in the environment variable ``api_key_env``.

    The key is read from the environment, never from the command line, so it stays out of shell
    history and process listings.

    :raises ConnectionNotFoundError: the variable is not set or empty.
    """
    key = os.environ.get(api_key_env, "")
    if not key.strip():
        raise ConnectionNotFoundError(
            f"--api-key-env: the environment variable {api_key_env} is not set (or is empty); "
            f"export {api_key_env} with the API key"
        )
    return Connection(
        conn_id=COMMAND_LINE_CONN_ID, conn_type=CONNECTION_TYPE, host=base_url, password=key, extra="{}"
    )


def with_password(connection: Connection, password: str) -> Connection:
    """A copy of ``connection`` with another key (the doctor's made-up one)."""
    return attrs.evolve(connection, password=password)
