"""An operator's request fields as its keyword arguments, derived from the request model at run time.

The request model (:mod:`tengr_provider.models`) is the one declaration of a request's fields: names,
which are required, defaults, rules and descriptions. An operator built on it takes each field as a
keyword argument, stores it under its name, and templates it. What Airflow needs to see of that is
derived here when the class is created: the field tuple, the template fields and the ``__init__``
signature, which Airflow reads to report a missing argument, to apply ``default_args`` and to check
``partial()``/``expand()`` arguments.

Why the operator modules still spell the signature out: an IDE's completion and a type checker read
source, not run-time signatures, so each operator carries its keyword arguments in an ``if
TYPE_CHECKING:`` block. That block is generated from the model (``python scripts/request_fields.py``),
like the decorators' TypedDicts and the docs tables, and ``tests/unit/test_request_fields.py`` names
any field it lacks: adding a field to a model is one edit there, then the generator.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel


def keyword_defaults(model: type[BaseModel]) -> dict[str, Any]:
    """Each field's default, ``inspect.Parameter.empty`` for a required one, in the model's order."""
    return {
        name: inspect.Parameter.empty if field.is_required() else field.get_default(call_default_factory=True)
        for name, field in model.model_fields.items()
    }


def request_keywords_init(cls: type[Any], model: type[BaseModel]) -> Callable[..., None]:
    """An ``__init__`` for ``cls`` that takes ``model``'s fields as keyword arguments and stores them.

    The other keyword arguments go on to the base class. Its signature lists the fields (required ones
    without a default) before ``**kwargs``, so that Airflow sees them as the operator's own.
    """
    defaults = keyword_defaults(model)
    # A required field left out is reported by Airflow (it reads the signature below) before this runs.
    fallback = {
        name: None if default is inspect.Parameter.empty else default for name, default in defaults.items()
    }

    def __init__(self: Any, **kwargs: Any) -> None:
        values = {name: kwargs.pop(name, value) for name, value in fallback.items()}
        super(cls, self).__init__(**kwargs)
        for name, value in values.items():
            setattr(self, name, value)

    parameters = [
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        *(
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
            for name, default in defaults.items()
        ),
        inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD),
    ]
    __init__.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__module__ = cls.__module__
    __init__.__doc__ = (
        f"Take the fields of :class:`~{model.__module__}.{model.__name__}` as keyword arguments."
    )
    return __init__
