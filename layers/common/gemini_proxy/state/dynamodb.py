"""State in one DynamoDB table, shared by every Lambda instance.

Item layout: `pk` = namespace, `sk` = key, `data` = the record as a JSON string (floats and
unicode round-trip exactly, which the Number type would only do through Decimal), `version`,
and `expires_at`, the table's TTL attribute. TTL deletes expired items only eventually, so
every read and condition here also compares `expires_at` with the clock.

boto3 is an optional dependency: import this module only when the backend is dynamodb.
"""

import json
import time
from functools import partial
from typing import Any

import anyio.to_thread
import boto3  # type: ignore[import-untyped]
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from gemini_proxy.state.base import Record

# A live record: no expiry, or an expiry still ahead of the writer's clock.
_LIVE = "(attribute_not_exists(#expires) OR #expires > :now)"
# Expected version 0: nothing there, or only a record that has expired but not yet been swept.
_ABSENT = "attribute_not_exists(#pk) OR #expires <= :now"
_MATCHES = f"#version = :expected AND {_LIVE}"


class DynamoStore:
    def __init__(
        self,
        table_name: str,
        client: Any | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        self.table_name = table_name
        self._owns_client = client is None
        self._client: Any = client or boto3.client(
            "dynamodb", endpoint_url=endpoint_url, region_name=region
        )

    async def get(self, namespace: str, key: str) -> Record | None:
        reply = await self._call(
            "get_item", TableName=self.table_name, Key=_key(namespace, key), ConsistentRead=True
        )
        item = reply.get("Item")
        if item is None:
            return None
        record = _record(item)
        return None if record.expired(time.time()) else record

    async def query(self, namespace: str) -> list[Record]:
        records: list[Record] = []
        page: dict[str, Any] = {}
        while True:
            reply = await self._call(
                "query",
                TableName=self.table_name,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": namespace}},
                ConsistentRead=True,
                **page,
            )
            records.extend(_record(item) for item in reply.get("Items", []))
            if "LastEvaluatedKey" not in reply:
                break
            page = {"ExclusiveStartKey": reply["LastEvaluatedKey"]}
        now = time.time()
        return [record for record in records if not record.expired(now)]

    async def put(
        self,
        namespace: str,
        key: str,
        data: dict[str, Any],
        expected_version: int,
        expires_at: float | None = None,
    ) -> Record | None:
        encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        item = {
            **_key(namespace, key),
            "data": {"S": encoded},
            "version": {"N": str(expected_version + 1)},
        }
        if expires_at is not None:
            item["expires_at"] = {"N": _number(expires_at)}
        condition = _condition(expected_version)
        if not await self._conditional("put_item", Item=item, **condition):
            return None
        return Record(namespace, key, json.loads(encoded), expected_version + 1, expires_at)

    async def delete(self, namespace: str, key: str, expected_version: int) -> bool:
        if expected_version == 0:
            # Stored versions start at 1, so nothing can match; the "absent" condition would
            # instead let DynamoDB report success for deleting an item that is not there.
            return False
        return await self._conditional(
            "delete_item", Key=_key(namespace, key), **_condition(expected_version)
        )

    async def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def ensure_table(self) -> None:
        """Create the table (on-demand billing, TTL on `expires_at`) unless it exists.

        Blocking, for tests and tooling; the request path never calls it.
        """
        client = self._client
        try:
            client.create_table(
                TableName=self.table_name,
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
        except ClientError as exc:
            if _error_code(exc) != "ResourceInUseException":
                raise
        client.get_waiter("table_exists").wait(
            TableName=self.table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        ttl = client.describe_time_to_live(TableName=self.table_name)
        if ttl["TimeToLiveDescription"].get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            # DynamoDB rejects enabling TTL twice, hence the look first.
            client.update_time_to_live(
                TableName=self.table_name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
            )

    async def _conditional(self, operation: str, **kwargs: Any) -> bool:
        try:
            await self._call(operation, TableName=self.table_name, **kwargs)
        except ClientError as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    async def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        # boto3 blocks; a worker thread keeps the event loop serving other requests.
        method = getattr(self._client, operation)
        reply: dict[str, Any] = await anyio.to_thread.run_sync(partial(method, **kwargs))
        return reply


def _key(namespace: str, key: str) -> dict[str, Any]:
    return {"pk": {"S": namespace}, "sk": {"S": key}}


def _condition(expected_version: int) -> dict[str, Any]:
    # Every name and value given must appear in the expression, or DynamoDB rejects the call.
    now = {":now": {"N": _number(time.time())}}
    if expected_version == 0:
        return {
            "ConditionExpression": _ABSENT,
            "ExpressionAttributeNames": {"#pk": "pk", "#expires": "expires_at"},
            "ExpressionAttributeValues": now,
        }
    return {
        "ConditionExpression": _MATCHES,
        "ExpressionAttributeNames": {"#version": "version", "#expires": "expires_at"},
        "ExpressionAttributeValues": {**now, ":expected": {"N": str(expected_version)}},
    }


def _number(value: float) -> str:
    # repr is the shortest string that parses back to the same float.
    return repr(float(value))


def _record(item: dict[str, Any]) -> Record:
    expires = item.get("expires_at")
    return Record(
        namespace=item["pk"]["S"],
        key=item["sk"]["S"],
        data=json.loads(item["data"]["S"]),
        version=int(item["version"]["N"]),
        expires_at=None if expires is None else float(expires["N"]),
    )


def _error_code(exc: Any) -> str:
    code: str = exc.response.get("Error", {}).get("Code", "")
    return code
