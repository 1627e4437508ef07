"""Make moto's DynamoDB conditional writes atomic, as the real service's are.

moto evaluates a ConditionExpression and then stores the item with no lock in between
(moto/dynamodb/models/table.py, Table.put_item), so two threads can both pass the same
condition and one update is lost. Real DynamoDB never does that, and the contract tests are
about our store, not moto's threading, so each write runs under one lock.
"""

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

_LOCK = threading.RLock()
_WRITES = ("put_item", "delete_item", "update_item")


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    return wrapper


@contextmanager
def atomic_moto_writes() -> Iterator[None]:
    originals = {name: getattr(DynamoDBBackend, name) for name in _WRITES}
    try:
        for name, method in originals.items():
            setattr(DynamoDBBackend, name, _locked(method))
        yield
    finally:
        for name, method in originals.items():
            setattr(DynamoDBBackend, name, method)
