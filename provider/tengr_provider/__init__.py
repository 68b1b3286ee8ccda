"""airflow-provider-tengr: tengr.ai image generation as Airflow pipeline steps.

Importing this package must stay cheap: Airflow calls :func:`get_provider_info` in every process
that lists providers, so nothing here imports Airflow, requests or pydantic.
"""

from __future__ import annotations

from typing import Any

from tengr_provider.api_paths import API_VERSION_LABELS, API_VERSIONS, DEFAULT_API_VERSION

__version__ = "0.1.0"

CONNECTION_TYPE = "tengr"
DEFAULT_CONN_ID = "tengr_default"
DEFAULT_BASE_URL = "https://api.tengr.ai"
#: The shortest timeout or backoff in seconds. Stated as ``minimum`` because Airflow's connection form
#: enforces that and ignores ``exclusiveMinimum`` (it accepted 0, which the hook refused).
SHORTEST_SECONDS = 0.01
#: Result-image link buttons per task. Airflow declares links per operator class, not per run, so the
#: count is fixed: photo-pilot makes at most four images per artwork, the other operators one.
RESULT_LINK_COUNT = 4


def result_link_class_name(index: int) -> str:
    """The class in :mod:`tengr_provider.links` of the link to image ``index`` (from 0)."""
    return f"TengrResultImage{index + 1 if index else ''}Link"


def get_provider_info() -> dict[str, Any]:
    """Describe the provider to Airflow's ProvidersManager (entry point ``apache_airflow_provider``).

    The connection form is declared here (``conn-fields`` / ``ui-field-behaviour``) so that Airflow
    3.2+ renders it without importing the hook; the hook keeps the same fields for older Airflow. The
    fields, defaults and bounds are those of ``hooks._settings.ConnectionSettings``; a unit test
    compares the two schemas.
    """
    return {
        "package-name": "airflow-provider-tengr",
        "name": "tengr.ai",
        "description": "Generate, restyle and upscale images with `tengr.ai <https://tengr.ai>`__.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "tengr.ai",
                "external-doc-url": "https://docs.tengr.ai",
                "tags": ["service"],
            }
        ],
        "hooks": [{"integration-name": "tengr.ai", "python-modules": ["tengr_provider.hooks.tengr"]}],
        "operators": [
            {
                "integration-name": "tengr.ai",
                "python-modules": [
                    "tengr_provider.operators.photo_pilot",
                    "tengr_provider.operators.style_dna",
                    "tengr_provider.operators.upscaling",
                    "tengr_provider.operators.create_artwork",
                    "tengr_provider.operators.batch",
                ],
            }
        ],
        "sensors": [{"integration-name": "tengr.ai", "python-modules": ["tengr_provider.sensors.artwork"]}],
        "triggers": [
            {
                "integration-name": "tengr.ai",
                "python-modules": ["tengr_provider.triggers.artwork", "tengr_provider.triggers.batch"],
            }
        ],
        # Every class of tengr_provider.links.RESULT_LINKS and BATCH_LINKS (a unit test compares them).
        "extra-links": [
            *(f"tengr_provider.links.{result_link_class_name(index)}" for index in range(RESULT_LINK_COUNT)),
            "tengr_provider.links.TengrContactSheetLink",
        ],
        # ``@task.<name>``; Airflow reads "class-name" (its schema's "path" is not what the code uses).
        "task-decorators": [
            {"name": f"tengr_{name}", "class-name": f"tengr_provider.decorators.{module}.tengr_{name}_task"}
            for name, module in (
                ("photo_pilot", "photo_pilot"),
                ("style_dna", "style_dna"),
                ("upscale", "upscaling"),
                ("batch", "batch"),
            )
        ],
        "connection-types": [
            {
                "connection-type": CONNECTION_TYPE,
                "hook-class-name": "tengr_provider.hooks.tengr.TengrHook",
                "hook-name": "tengr.ai",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "login", "extra"],
                    "relabeling": {"host": "Base URL", "password": "API key"},
                    "placeholders": {
                        "host": DEFAULT_BASE_URL,
                        "password": "your tengr.ai API key",
                    },
                },
                "conn-fields": {
                    "timeout": {
                        "label": "Timeout (seconds)",
                        "description": "Seconds each HTTP call may take before it is retried.",
                        "schema": {"type": ["number", "null"], "minimum": SHORTEST_SECONDS, "default": 60},
                    },
                    "max_retries": {
                        "label": "Max retries",
                        "description": "Retries on 429, 5xx and connection errors, with backoff.",
                        "schema": {"type": ["integer", "null"], "minimum": 0, "default": 5},
                    },
                    "rate_limit_timeout": {
                        "label": "Rate-limit patience (seconds)",
                        "description": (
                            "Seconds one call may wait on the server: 429s are retried and Retry-After "
                            "honoured until then; a longer wait ends the call (a task retry can take it)."
                        ),
                        "schema": {"type": ["number", "null"], "minimum": 0, "default": 600},
                    },
                    "retry_creates": {
                        "label": "Retry create calls after a server error",
                        "description": (
                            "A create that failed with 5xx or timed out may still have created an "
                            "artwork; retrying it can spend credits twice."
                        ),
                        "schema": {"type": ["boolean", "null"], "default": True},
                    },
                    "backoff_initial": {
                        "label": "Backoff (seconds)",
                        "description": "First wait before a retry; it doubles with each retry, with jitter.",
                        "schema": {"type": ["number", "null"], "minimum": SHORTEST_SECONDS, "default": 1},
                    },
                    "backoff_max": {
                        "label": "Longest backoff (seconds)",
                        "description": "Cap of the doubling wait; a server's Retry-After is kept as sent.",
                        "schema": {"type": ["number", "null"], "minimum": SHORTEST_SECONDS, "default": 60},
                    },
                    "allow_insecure_webhooks": {
                        "label": "Allow http and private-host webhooks",
                        "description": (
                            "tengr.ai calls webhooks only on public https URLs; allow others for an "
                            "older API revision, a private deployment or the local emulator."
                        ),
                        "schema": {"type": ["boolean", "null"], "default": False},
                    },
                    "api_version": {
                        "label": "API version",
                        "description": (
                            "v1 (deprecated by tengr.ai, the default) or v2 (current). With v2 every "
                            "create is asynchronous; the operators wait and return the same shape. "
                            "See docs/api-versions.md."
                        ),
                        "schema": {
                            "type": ["string", "null"],
                            "enum": list(API_VERSIONS),
                            "values_display": dict(API_VERSION_LABELS),
                            "default": DEFAULT_API_VERSION,
                        },
                    },
                    "api_paths": {
                        "label": "Path overrides (JSON)",
                        "description": (
                            'Replace a path of the API version\'s table, e.g. {"photo-pilot": "<path>"}, '
                            "for a route the docs do not state; see docs/api-versions.md."
                        ),
                        "schema": {"type": ["object", "null"], "default": {}},
                    },
                },
            }
        ],
    }
