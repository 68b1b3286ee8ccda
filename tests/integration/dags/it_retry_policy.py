"""A restyle with ``retry_policy=TengrRetryPolicy()`` and two retries (Airflow 3.3+ only).

Below 3.3 operators take no ``retry_policy=``, so the DAG is not defined there.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG

from tengr_provider.operators import TengrPhotoPilotOperator
from tengr_provider.retry_policy import TengrRetryPolicy
from tengr_provider.version_compat import HAS_RETRY_POLICIES

if HAS_RETRY_POLICIES:
    with DAG("it_retry_policy", schedule=None, catchup=False, tags=["integration"]):
        TengrPhotoPilotOperator(
            task_id="restyle",
            image_url="{{ conn.tengr_default.host }}/samples/shoe-0.png",
            image_guidance=1,
            modification=3,
            creativity=2,
            effort=2,
            aspect_ratio="1:1",
            poll_interval=0.2,
            timeout=60,
            retries=2,
            retry_delay=timedelta(seconds=0),
            retry_policy=TengrRetryPolicy(),
        )
