"""Waiting for artworks, in one place; each module imports only the layers below it.

- :mod:`~tengr_provider.waiting.policy`: one wait's rules (what ends it, what a transient failure does,
  the deadline) and the default intervals and timeouts. Below the hooks: the hook's
  ``wait_for_artwork``, the sensor's poke, both triggers and the batch all follow it.
- :mod:`~tengr_provider.waiting.requeue`: the least time before a task that let go of its worker is
  queued again (Airflow's stale-executor race), which the triggers honour and the deferring side sets.
- :mod:`~tengr_provider.waiting.deferral`: how a task waits, on its worker or in the triggerer. Above
  the triggers: the operators and the sensor call it.
"""
