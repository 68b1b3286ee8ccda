"""Bad inputs fail before any HTTP request, with a message that names the field and the rule.

Each case is run the way Airflow runs a task: the operator is constructed (where Airflow's DAG parsing
fails on arguments it can check at once), its templates are rendered when the case uses them, and
``execute`` is called with a minimal context. No request may reach the API: a credit spent on an input
the client could have rejected is a credit wasted, and a night's batch would spend it thousands of times.

:data:`CASES` is also the source of the table in ``docs/troubleshooting.md``
(``python scripts/bad_input_table.py`` regenerates it; ``test_docs_table_is_current`` checks it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
import responses
from tests.helpers import task_context

from tengr_provider.operators import TengrPhotoPilotOperator, TengrStyleDnaOperator, TengrUpscaleOperator
from tengr_provider.sensors.artwork import TengrArtworkSensor

IMAGE = "https://img.example/shoe.png"
TARGETS: dict[str, tuple[type[Any], dict[str, Any]]] = {
    "TengrPhotoPilotOperator": (
        TengrPhotoPilotOperator,
        {"image_url": IMAGE, "image_guidance": 1, "modification": 3, "creativity": 2, "effort": 2},
    ),
    "TengrStyleDnaOperator": (
        TengrStyleDnaOperator,
        {"visual_prompt": "ink wash", "anchor_image_url": IMAGE, "description": "a heron"},
    ),
    "TengrUpscaleOperator": (TengrUpscaleOperator, {"image_url": IMAGE}),
    "TengrArtworkSensor": (TengrArtworkSensor, {"artwork_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}),
}
#: A marker for a required argument left out.
MISSING = object()


@dataclass(frozen=True)
class Case:
    """One invalid input.

    :param target: the operator or sensor class name.
    :param shown: the input as the docs table shows it.
    :param message: text the error must contain: it names the field and the rule.
    :param kwargs: arguments on top of the target's valid ones (:data:`MISSING` removes one).
    :param params: values for ``{{ params.* }}`` templates, rendered before ``execute``.
    """

    target: str
    shown: str
    message: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        return f"{self.target.removeprefix('Tengr')}-{self.shown}"


PP, SD, UP, SE = (
    "TengrPhotoPilotOperator",
    "TengrStyleDnaOperator",
    "TengrUpscaleOperator",
    "TengrArtworkSensor",
)

CASES = [
    # photo-pilot: enums and ranges
    Case(
        PP,
        "image_guidance=7",
        "image_guidance (imageGuidance): Input should be 1, 2 or 3",
        {"image_guidance": 7},
    ),
    Case(
        PP,
        'image_guidance="HIGHEST"',
        "image_guidance (imageGuidance): Input should be 1, 2 or 3",
        {"image_guidance": "HIGHEST"},
    ),
    Case(
        PP, "modification=0", "modification: Input should be greater than or equal to 1", {"modification": 0}
    ),
    Case(PP, "modification=6", "modification: Input should be less than or equal to 5", {"modification": 6}),
    Case(PP, "creativity=-1", "creativity: Input should be greater than or equal to 1", {"creativity": -1}),
    Case(PP, "effort=9", "effort: Input should be less than or equal to 5", {"effort": 9}),
    Case(
        PP,
        'aspect_ratio="5:4"',
        "aspect_ratio (aspectRatio): Input should be '1:1', '2:3', '3:4', '4:3', '9:16', '3:2' or '16:9'",
        {"aspect_ratio": "5:4"},
    ),
    Case(
        PP,
        'high_resolution="maybe"',
        "high_resolution (highResolution): Input should be a valid boolean, unable to interpret input",
        {"high_resolution": "maybe"},
    ),
    Case(PP, "prompt=123", "prompt: Input should be a valid string", {"prompt": 123}),
    # photo-pilot: size rules
    Case(
        PP,
        'aspect_ratio="1:1" with width/height',
        "aspect_ratio: cannot be combined with width/height; give one or the other",
        {"aspect_ratio": "1:1", "width": 1024, "height": 1024},
    ),
    Case(
        PP,
        "width without height",
        "height: required when width is given (width and height go together)",
        {"width": 1024},
    ),
    Case(
        PP,
        "height without width",
        "width: required when height is given (width and height go together)",
        {"height": 1024},
    ),
    Case(
        PP, "width=4096", "width: Input should be less than or equal to 2048", {"width": 4096, "height": 512}
    ),
    Case(
        PP,
        "height=300",
        "height: Input should be greater than or equal to 512",
        {"width": 512, "height": 300},
    ),
    Case(
        PP,
        "width=height=2048",
        "width: area 2048x2048=4194304 px exceeds 1478656 px (photo-pilot cap;",
        {"width": 2048, "height": 2048},
    ),
    Case(
        PP,
        "width=height=2048, high_resolution",
        "width: area 2048x2048=4194304 px exceeds 1763584 px (photo-pilot cap with high_resolution)",
        {"width": 2048, "height": 2048, "high_resolution": True},
    ),
    # photo-pilot: URLs and required fields
    Case(
        PP,
        'image_url="ftp://..."',
        "image_url (imageUrl): must be an http(s) URL, got 'ftp://img.example/a.png'",
        {"image_url": "ftp://img.example/a.png"},
    ),
    Case(
        PP,
        'image_url="s3://..."',
        "image_url (imageUrl): must be an http(s) URL, got 's3://bucket/a.png'",
        {"image_url": "s3://bucket/a.png"},
    ),
    Case(PP, 'image_url=""', "image_url (imageUrl): must be an http(s) URL, got ''", {"image_url": ""}),
    Case(PP, "image_url missing", "missing keyword argument 'image_url'", {"image_url": MISSING}),
    Case(PP, "effort missing", "missing keyword argument 'effort'", {"effort": MISSING}),
    Case(
        PP,
        'webhook="http://..."',
        "webhook: must be an https URL, got 'http://hooks.example.com/tengr'",
        {"webhook": "http://hooks.example.com/tengr"},
    ),
    Case(
        PP,
        'webhook="https://10.0.0.7/..."',
        "webhook: must be on a public host; '10.0.0.7' is a private (RFC 1918 / unique-local) address",
        {"webhook": "https://10.0.0.7/hook"},
    ),
    Case(
        PP,
        'webhook="https://localhost/..."',
        "webhook: must be on a public host; 'localhost' is a local name (localhost, .local, .internal)",
        {"webhook": "https://localhost/hook"},
    ),
    # photo-pilot: templates that render the wrong thing
    Case(
        PP,
        'width="{{ params.w }}" → "wide"',
        "width: Input should be a valid integer, unable to parse string as an integer",
        {"width": "{{ params.w }}", "height": 512},
        {"w": "wide"},
    ),
    Case(
        PP,
        'effort="{{ params.e }}" → "2.5"',
        "effort: Input should be a valid integer, unable to parse string as an integer",
        {"effort": "{{ params.e }}"},
        {"e": "2.5"},
    ),
    Case(
        PP,
        'image_url="{{ params.u }}" → "None"',
        "image_url (imageUrl): must be an http(s) URL, got 'None'",
        {"image_url": "{{ params.u }}"},
        {"u": None},
    ),
    # photo-pilot: waiting and storing
    Case(PP, "poll_interval=0", "poll_interval: must be > 0 seconds, got 0", {"poll_interval": 0}),
    Case(PP, "timeout=-5", "timeout: must be >= 0 seconds, got -5", {"timeout": -5}),
    Case(
        PP,
        'output_path="images/out"',
        "output_path: a local path must be absolute (or a URI such as file:///data/images), got 'images/out'",
        {"output_path": "images/out"},
    ),
    Case(
        PP,
        'output_path="gopher://..."',
        "output_path: cannot open 'gopher://host/images' (scheme 'gopher')",
        {"output_path": "gopher://host/images"},
    ),
    Case(
        PP,
        'output_path="file://data/out"',
        "output_path: 'file://data/out' has 'data' where a file URI has its host",
        {"output_path": "file://data/out"},
    ),
    Case(
        PP,
        "output_path with wait_for_completion=False",
        "output_path: needs wait_for_completion=True (there is nothing to copy yet)",
        {"output_path": "/tmp/x", "wait_for_completion": False},
    ),
    Case(
        PP,
        "max_image_bytes=0",
        "max_image_bytes: must be a positive number of bytes, got 0",
        {"max_image_bytes": 0},
    ),
    # style-dna
    Case(
        SD, 'visual_prompt="  "', "visual_prompt (visualPrompt): must not be empty", {"visual_prompt": "  "}
    ),
    Case(SD, 'description=""', "description: must not be empty", {"description": ""}),
    Case(SD, "description missing", "missing keyword argument 'description'", {"description": MISSING}),
    Case(
        SD,
        'anchor_image_url="file:///..."',
        "anchor_image_url (anchorImageUrl): must be an http(s) URL, got 'file:///etc/hosts'",
        {"anchor_image_url": "file:///etc/hosts"},
    ),
    Case(
        SD,
        'aspect_ratio="21:9"',
        "aspect_ratio (aspectRatio): Input should be '1:1', '2:3', '3:4', '4:3', '9:16', '3:2' or '16:9'",
        {"aspect_ratio": "21:9"},
    ),
    Case(
        SD,
        'image_format="gif"',
        "image_format (imageFormat): Input should be 'png' or 'webp'",
        {"image_format": "gif"},
    ),
    Case(
        SD,
        'aspect_ratio="16:9" with width/height',
        "aspect_ratio: cannot be combined with width/height; give one or the other",
        {"aspect_ratio": "16:9", "width": 1024, "height": 576},
    ),
    Case(
        SD,
        "width without height",
        "height: required when width is given (width and height go together)",
        {"width": 1024},
    ),
    Case(
        SD,
        "width=height=2048",
        "width: area 2048x2048=4194304 px exceeds 1763584 px (style-dna cap)",
        {"width": 2048, "height": 2048},
    ),
    Case(
        SD, "width=100", "width: Input should be greater than or equal to 512", {"width": 100, "height": 512}
    ),
    Case(
        SD,
        'height="{{ params.h }}" → "576px"',
        "height: Input should be a valid integer, unable to parse string as an integer",
        {"width": 1024, "height": "{{ params.h }}"},
        {"h": "576px"},
    ),
    Case(
        SD,
        'output_path="nosuch://..."',
        "output_path: cannot open 'nosuch://bucket/images' (scheme 'nosuch')",
        {"output_path": "nosuch://bucket/images"},
    ),
    # upscaling
    Case(
        UP,
        "scale_factor=1",
        "scale_factor (scaleFactor): Input should be greater than or equal to 2",
        {"scale_factor": 1},
    ),
    Case(
        UP,
        "scale_factor=9",
        "scale_factor (scaleFactor): Input should be less than or equal to 8",
        {"scale_factor": 9},
    ),
    Case(
        UP,
        'scale_factor="x2"',
        "scale_factor (scaleFactor): Input should be a valid integer, unable to parse string as an integer",
        {"scale_factor": "x2"},
    ),
    Case(
        UP,
        'image_url="not a url"',
        "image_url (imageUrl): must be an http(s) URL, got 'not a url'",
        {"image_url": "not a url"},
    ),
    Case(
        UP,
        'image_url="{{ params.u }}" → ""',
        "image_url (imageUrl): must be an http(s) URL, got ''",
        {"image_url": "{{ params.u }}"},
        {"u": ""},
    ),
    Case(UP, "poll_interval=-1", "poll_interval: must be > 0 seconds, got -1", {"poll_interval": -1}),
    Case(UP, "timeout=-1", "timeout: must be >= 0 seconds, got -1", {"timeout": -1}),
    Case(
        UP,
        'output_path="relative/dir"',
        "output_path: a local path must be absolute",
        {"output_path": "relative/dir"},
    ),
    # sensor
    Case(SE, 'artwork_id=""', "artwork_id: must be a non-empty string, got ''", {"artwork_id": ""}),
    Case(SE, 'artwork_id="   "', "artwork_id: must be a non-empty string, got '   '", {"artwork_id": "   "}),
    Case(SE, 'artwork_id="null"', "artwork_id: must be an artwork id, got 'null'", {"artwork_id": "null"}),
    Case(
        SE,
        'artwork_id="{{ params.id }}" → "None"',
        "artwork_id: must be an artwork id, got 'None'",
        {"artwork_id": "{{ params.id }}"},
        {"id": None},
    ),
    Case(SE, "artwork_id missing", "missing keyword argument 'artwork_id'", {"artwork_id": MISSING}),
    Case(
        SE,
        "timeout=-1",
        "Operator arg `timeout` must be timedelta object or a non-negative number",
        {"timeout": -1},
    ),
    Case(
        SE,
        "poke_interval=-5",
        "Operator arg `poke_interval` must be timedelta object or a non-negative number",
        {"poke_interval": -5},
    ),
]


def run_case(case: Case) -> None:
    """Construct, render (when the case has templates) and execute, as a worker would."""
    cls, valid = TARGETS[case.target]
    kwargs = {**valid, **case.kwargs}
    kwargs = {name: value for name, value in kwargs.items() if value is not MISSING}
    operator = cls(task_id="bad_input", **kwargs)
    context = task_context()
    if case.params is not None:
        context["params"] = case.params
        operator.render_template_fields(context)
    operator.execute(context)


def error_of(case: Case) -> str:
    """The error text the case ends with, asserting no request reached the API."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        with pytest.raises(Exception) as raised:  # noqa: PT011 - the message is what is checked
            run_case(case)
        assert len(mocked.calls) == 0, [call.request.url for call in mocked.calls]
    return f"{type(raised.value).__name__}: {raised.value}"


def test_there_are_at_least_forty_cases_across_all_four() -> None:
    assert len(CASES) >= 40
    assert {case.target for case in CASES} == set(TARGETS)
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.usefixtures("tengr_connection")
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_fails_before_any_request_naming_field_and_rule(case: Case) -> None:
    message = error_of(case)
    assert case.message, message
    assert case.message in message
    field_name = re.match(r"\w+", case.shown)
    assert field_name is not None
    assert field_name.group() in case.message  # the field is named, not just the rule


def test_docs_table_is_current() -> None:
    """``docs/troubleshooting.md`` shows exactly :data:`CASES`; regenerate it when they change."""
    from scripts.bad_input_table import SECTION

    current = SECTION.doc.read_text()
    assert current == SECTION.expected(current), f"{SECTION.doc.name} is stale; run: {SECTION.command}"
