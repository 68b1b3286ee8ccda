"""The operator extra links: buttons in a task instance's UI that open its images.

When ``output_path`` is set the links open the stored files, which outlive the API's result URLs
(those expire after 8 days), where a browser can open them; else the API's result URLs. Airflow's UI
shows only ``http``, ``https`` and ``mailto`` links (and drops the rest without a word), so a file
stored under ``file://`` or ``s3://`` is linked through the API's URL of the same image. One link per
image, up to :data:`MAX_LINKS`. Airflow 3 computes links on the worker when the task ends and stores
them in XCom, so each link reads the targets the operator pushed under :data:`RESULT_URL_XCOM_KEY`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tengr_provider import RESULT_LINK_COUNT, result_link_class_name
from tengr_provider.version_compat import BaseOperatorLink, XCom

if TYPE_CHECKING:
    from tengr_provider.version_compat import TaskInstanceKey

#: XCom key under which operators push the link targets: a list of URIs, stored files first choice.
RESULT_URL_XCOM_KEY = "tengr_result_url"
#: Link buttons per task (see :data:`tengr_provider.RESULT_LINK_COUNT`).
MAX_LINKS = RESULT_LINK_COUNT


#: The schemes Airflow's UI turns into a link button (it drops any other link).
BROWSABLE_SCHEMES = frozenset({"http", "https"})


def link_targets(result_urls: list[str], stored_files: list[str] | None) -> list[str]:
    """What the links open, one per image: its stored file when a browser can open it, else its API URL."""
    stored = list(stored_files or [])
    count = max(len(result_urls), len(stored))
    targets = []
    for index in range(count):
        file = stored[index] if index < len(stored) else ""
        if browsable(file):
            targets.append(file)
        elif index < len(result_urls):
            targets.append(result_urls[index])
    return targets


class TengrResultImageLink(BaseOperatorLink):
    """Opens the first image the task produced: its stored file, else the API's result URL."""

    name = "tengr.ai result image"
    #: Which of the pushed targets this link opens.
    index = 0

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        """The pushed target at :attr:`index`, or an empty string (no button) when there is none."""
        targets = XCom.get_value(ti_key=ti_key, key=RESULT_URL_XCOM_KEY)
        if isinstance(targets, str):  # pushed by 0.1.0 pre-releases: one URL
            targets = [targets] if targets else []
        if not isinstance(targets, list) or self.index >= len(targets):
            return ""
        target = targets[self.index]
        return target if isinstance(target, str) else ""


def _link_to_image(index: int) -> type[TengrResultImageLink]:
    """The link class that opens image ``index``, named as the provider info registers it."""
    if index == 0:
        return TengrResultImageLink
    name = result_link_class_name(index)
    namespace = {
        "__doc__": f"Opens image {index + 1} (photo-pilot with several results).",
        "__module__": __name__,
        "__qualname__": name,
        "name": f"tengr.ai result image {index + 1}",
        "index": index,
    }
    return type(name, (TengrResultImageLink,), namespace)


#: Every link, in order; the operators carry them all and the provider info registers them. Each is a
#: module attribute under its registered name (``TengrResultImage2Link``, ...), where Airflow imports it.
RESULT_LINKS: tuple[type[TengrResultImageLink], ...] = tuple(_link_to_image(i) for i in range(MAX_LINKS))
globals().update({link.__name__: link for link in RESULT_LINKS})


#: XCom key under which a batch pushes its contact sheet's address when a browser can open it.
CONTACT_SHEET_XCOM_KEY = "tengr_contact_sheet"


def browsable(uri: str) -> bool:
    """Whether Airflow's UI shows a link to ``uri`` (it drops every scheme but http(s) and mailto)."""
    return urlsplit(uri).scheme in BROWSABLE_SCHEMES


class TengrContactSheetLink(BaseOperatorLink):
    """Opens a batch's contact sheet (its first 200 results), when it is stored where a browser can open
    it (an ``output_path`` served over http(s)); otherwise the task log and the summary name it."""

    name = "tengr.ai contact sheet"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        """The pushed address, or an empty string (no button)."""
        target = XCom.get_value(ti_key=ti_key, key=CONTACT_SHEET_XCOM_KEY)
        return target if isinstance(target, str) else ""


#: The links of the batch operator.
BATCH_LINKS: tuple[type[BaseOperatorLink], ...] = (TengrContactSheetLink,)
