"""The operator extra link: a button in the task's UI that opens the result image.

Airflow 3 computes links on the worker when the task ends and stores them in XCom, so the link reads
the URL the operator pushed under :data:`RESULT_URL_XCOM_KEY` for that task instance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tengr_provider.version_compat import BaseOperatorLink, XCom

if TYPE_CHECKING:
    from airflow.sdk.types import TaskInstanceKey

#: XCom key under which operators push the first result image's URL.
RESULT_URL_XCOM_KEY = "tengr_result_url"


class TengrResultImageLink(BaseOperatorLink):
    """Opens the first result image of the artwork the task produced."""

    name = "tengr.ai result image"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        """The pushed result URL, or an empty string (no button) when the task produced none."""
        url = XCom.get_value(ti_key=ti_key, key=RESULT_URL_XCOM_KEY)
        return url if isinstance(url, str) else ""
