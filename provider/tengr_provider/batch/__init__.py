"""What :class:`~tengr_provider.operators.batch.TengrBatchOperator` is built from, one job per module.

- :mod:`.items`: the batch's requests, read from a list or a JSONL/CSV object, validated, fingerprinted;
- :mod:`.ledger`: the record in object storage that lets a retried or killed task resume without paying
  twice;
- :mod:`.reconcile`: finding, through the artworks list, the artwork of a create whose answer was lost;
- :mod:`.pacing`: one pace for every create of the batch, set by the API's 429s;
- :mod:`.statuses`: reading many artworks' statuses with few calls, on the worker;
- :mod:`.outcome`: what became of each item, the counts and the failure policy;
- :mod:`.report`: the manifest, the contact sheet and the progress line.
"""

from __future__ import annotations
