"""``tengr-doctor``: the provider's assumptions about tengr.ai, checked against a live API.

The assumptions are declared in :mod:`tengr_provider.doctor.assumptions`; :mod:`~.cli` is the command
(``tengr-doctor``, ``python -m tengr_provider.doctor``). See ``docs/quickstart.md`` ("Before your
first real run").
"""
