"""Airflow's default Celery configuration, loaded with the provider's modules already imported.

``[celery] celery_config_options`` names this dict. Importing it happens in each worker's main process
before Celery forks its pool, and every task process is forked from the pool, so the provider and the
S3 filesystem are imported once per worker instead of once per task (about half a CPU-second each
time, measured in this tier). A team can do the same for the providers its workers use most.
"""

from __future__ import annotations

import s3fs  # noqa: F401 - preloaded, see above
from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

import tengr_provider.operators  # noqa: F401 - preloaded, see above

CELERY_CONFIG = dict(DEFAULT_CELERY_CONFIG)
