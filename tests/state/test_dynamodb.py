"""What the contract suite cannot see: the table's shape and the items' layout."""

from collections.abc import Iterator
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from moto import mock_aws

from gemini_proxy.state.dynamodb import DynamoStore

pytestmark = pytest.mark.anyio


@pytest.fixture
def client(aws_env: None) -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


def test_ensure_table_is_on_demand_with_ttl_and_idempotent(client: Any) -> None:
    store = DynamoStore("state", client=client)
    store.ensure_table()
    store.ensure_table()
    table = client.describe_table(TableName="state")["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {
        "pk": "HASH",
        "sk": "RANGE",
    }
    ttl = client.describe_time_to_live(TableName="state")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


async def test_item_layout(client: Any) -> None:
    store = DynamoStore("state", client=client)
    store.ensure_table()
    await store.put("ns", "lease", {"holder": "a"}, 0, expires_at=1_900_000_000.5)
    await store.put("ns", "forever", {"x": 1.5}, 0)

    def raw(key: str) -> dict[str, Any]:
        item: dict[str, Any] = client.get_item(
            TableName="state", Key={"pk": {"S": "ns"}, "sk": {"S": key}}
        )["Item"]
        return item

    assert raw("lease") == {
        "pk": {"S": "ns"},
        "sk": {"S": "lease"},
        "data": {"S": '{"holder":"a"}'},
        "version": {"N": "1"},
        "expires_at": {"N": "1900000000.5"},
    }
    # No TTL attribute at all when the record never expires: TTL ignores such items.
    assert "expires_at" not in raw("forever")


class _BorrowedClient:
    closed = False

    def close(self) -> None:
        self.closed = True


async def test_close_leaves_a_borrowed_client_open() -> None:
    borrowed = _BorrowedClient()
    await DynamoStore("state", client=borrowed).close()
    assert not borrowed.closed
