"""Scripted faults: which request fails, how, how many times and how often.

A rule matches on credential fingerprint, model, API and request kind (each None = any); the first
matching rule with uses left whose chance comes up applies and loses one use. A rule's
`probability` (default 1) is that chance, drawn from one seeded generator per fault book, so a
mix of "half the time" and "one request in ten" faults plays out the same way for the same order
of requests. Error faults become a `GoogleError`; shape faults (reset, drops, odd answers) are
carried out by the route layer, which reads `Fault`.
"""

import itertools
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import errors
from .catalog import bare_model_id

# Request kinds a rule touches when it names none: the ones that carry a model, so an account's
# quota fault does not also break its token refresh or project discovery.
DEFAULT_KINDS = frozenset({"generate", "stream", "count_tokens", "embed", "batch_embed"})
APIS = frozenset({"ai_studio", "code_assist", "oauth"})
# The fault book's generator starts here on every reset: runs are repeatable.
RANDOM_SEED = 1618


@dataclass(frozen=True, slots=True)
class FaultContext:
    api: str
    model: str
    project: str | None = None


_Builder = Callable[[dict[str, Any], FaultContext], errors.GoogleError]


def _delay(params: dict[str, Any], default: str | None) -> str | None:
    value = params.get("retry_delay", default)
    return None if value is None else str(value)


_ERRORS: dict[str, tuple[frozenset[str], _Builder]] = {
    "rate_limit_minute": (
        frozenset({"retry_delay", "limit"}),
        lambda p, c: errors.rate_limit_minute(
            c.model, _delay(p, "15s") or "15s", int(p.get("limit", 10))
        ),
    ),
    "quota_day": (
        frozenset({"retry_delay", "limit"}),
        lambda p, c: errors.quota_day(c.model, _delay(p, "12s"), int(p.get("limit", 250))),
    ),
    "quota_exhausted": (
        frozenset({"reset_seconds"}),
        lambda p, c: errors.quota_exhausted(
            c.model, float(p.get("reset_seconds", 11525.300432511))
        ),
    ),
    "rate_limit_exceeded": (
        frozenset({"retry_delay"}),
        lambda p, c: errors.rate_limit_exceeded(c.model, _delay(p, "10s")),
    ),
    "bare_429": (frozenset(), lambda p, c: errors.bare_429()),
    "invalid_key": (frozenset(), lambda p, c: errors.api_key_invalid()),
    "leaked": (frozenset(), lambda p, c: errors.key_leaked()),
    "suspended": (frozenset(), lambda p, c: errors.consumer_suspended(c.api)),
    "service_disabled": (frozenset(), lambda p, c: errors.service_disabled(c.api)),
    "iam_denied": (frozenset(), lambda p, c: errors.iam_denied(c.project)),
    "validation_required": (
        frozenset({"url"}),
        lambda p, c: errors.validation_required(str(p.get("url", errors.DEFAULT_VALIDATION_URL))),
    ),
    "unauthenticated": (frozenset(), lambda p, c: errors.unauthenticated()),
    "unsupported_client": (frozenset(), lambda p, c: errors.unsupported_client()),
    "unavailable": (
        frozenset({"message"}),
        lambda p, c: errors.unavailable(
            str(p.get("message", "The model is overloaded. Please try again later."))
        ),
    ),
    "capacity": (
        frozenset({"status"}),
        lambda p, c: errors.capacity(c.model, int(p.get("status", 503))),
    ),
    "internal": (frozenset(), lambda p, c: errors.internal()),
    "bad_gateway": (frozenset(), lambda p, c: errors.bad_gateway()),
    "gateway_timeout": (frozenset(), lambda p, c: errors.gateway_timeout()),
    "payload": (
        frozenset({"message"}),
        lambda p, c: errors.invalid_argument(
            str(p.get("message", "Request contains an invalid argument."))
        ),
    ),
    "raw": (frozenset({"status", "body", "content_type"}), lambda p, c: _raw(p)),
}

# Faults that change the answer or the connection rather than returning an error body.
SHAPE_PARAMS: dict[str, frozenset[str]] = {
    "reset": frozenset(),
    "drop_mid_stream": frozenset({"after_events"}),
    "empty_stream": frozenset(),
    "thought_only_stream": frozenset(),
    "empty_answer": frozenset(),
    "blocked_prompt": frozenset({"reason"}),
    "malformed_function_call": frozenset(),
    "max_tokens": frozenset(),
    "finish_reason": frozenset({"reason"}),
    "slow": frozenset({"delay_ms"}),
}

FAULT_TYPES = frozenset(_ERRORS) | frozenset(SHAPE_PARAMS)


def _raw(params: dict[str, Any]) -> errors.GoogleError:
    content_type = params.get("content_type")
    body = params.get("body", "")
    if content_type is None:
        content_type = errors.JSON_TYPE if not isinstance(body, str) else "text/plain"
    return errors.GoogleError(int(params.get("status", 500)), body, content_type=str(content_type))


@dataclass(slots=True)
class Fault:
    """One application of a rule."""

    type: str
    params: dict[str, Any]
    rule_id: str

    @property
    def is_error(self) -> bool:
        return self.type in _ERRORS

    def error(self, ctx: FaultContext) -> errors.GoogleError:
        _, build = _ERRORS[self.type]
        failure = build(self.params, ctx)
        failure.array_wrapped = bool(self.params.get("array_wrapped", False))
        return failure


@dataclass(slots=True)
class FaultRule:
    id: str
    spec: dict[str, Any]
    credential: str | None = None
    model: str | None = None
    api: str | None = None
    kinds: frozenset[str] | None = None
    times_left: int | None = None
    probability: float = 1.0
    applied: int = 0

    @property
    def type(self) -> str:
        return str(self.spec["type"])

    def matches(self, api: str, kind: str, credential: str | None, model: str | None) -> bool:
        if self.times_left is not None and self.times_left <= 0:
            return False
        if self.api is not None and self.api != api:
            return False
        if kind not in (self.kinds if self.kinds is not None else DEFAULT_KINDS):
            return False
        if self.credential is not None and self.credential != credential:
            return False
        return self.model is None or self.model == model

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "credential": self.credential,
            "model": self.model,
            "api": self.api,
            "kinds": sorted(self.kinds) if self.kinds is not None else None,
            "fault": self.spec,
            "times_left": self.times_left,
            "probability": self.probability,
            "applied": self.applied,
        }


def parse_rule(rule_id: str, payload: Any) -> FaultRule:
    """A rule from the control API's JSON; ValueError says what is wrong."""
    if not isinstance(payload, dict):
        raise ValueError("body must be a JSON object")
    allowed = {"credential", "model", "fault", "times", "api", "kinds", "probability"}
    unknown = sorted(set(payload) - allowed)
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(unknown)}")
    spec = payload.get("fault")
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, dict) or spec.get("type") not in FAULT_TYPES:
        raise ValueError(f"fault.type must be one of: {', '.join(sorted(FAULT_TYPES))}")
    kind = str(spec["type"])
    params = _ERRORS[kind][0] | {"array_wrapped"} if kind in _ERRORS else SHAPE_PARAMS[kind]
    bad = sorted(set(spec) - params - {"type"})
    if bad:
        raise ValueError(f"unknown parameters for {kind}: {', '.join(bad)}")
    _check_params(spec)
    times = payload.get("times")
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 0):
        raise ValueError("times must be a non-negative integer or null")
    api = payload.get("api")
    if api is not None and api not in APIS:
        raise ValueError(f"api must be one of: {', '.join(sorted(APIS))}")
    kinds = payload.get("kinds")
    if kinds is not None and (
        not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds)
    ):
        raise ValueError("kinds must be a list of request kinds")
    model = payload.get("model")
    credential = payload.get("credential")
    return FaultRule(
        id=rule_id,
        spec=dict(spec),
        credential=str(credential) if credential is not None else None,
        model=bare_model_id(str(model)) if model is not None else None,
        api=api,
        kinds=frozenset(kinds) if kinds is not None else None,
        times_left=times,
        probability=_probability(payload.get("probability", 1.0)),
    )


def _probability(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ValueError("probability must be a number greater than 0 and at most 1")
    return float(value)


def _check_params(spec: dict[str, Any]) -> None:
    for key in ("retry_delay",):
        if spec.get(key) is not None:
            errors.parse_duration(str(spec[key]))
    for key in ("after_events", "limit", "status"):
        value = spec.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ValueError(f"{key} must be an integer")
    for key in ("delay_ms", "reset_seconds"):
        value = spec.get(key)
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise ValueError(f"{key} must be a number")


class FaultBook:
    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._applied: Counter[str] = Counter()
        self._random = random.Random(RANDOM_SEED)  # noqa: S311 (a test double, not security)

    def clear(self) -> None:
        self.rules.clear()
        self._applied.clear()
        self._random.seed(RANDOM_SEED)

    def add(self, payload: Any) -> FaultRule:
        rule = parse_rule(f"fault-{next(self._ids)}", payload)
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: str) -> bool:
        before = len(self.rules)
        self.rules = [r for r in self.rules if r.id != rule_id]
        return len(self.rules) != before

    def take(self, api: str, kind: str, credential: str | None, model: str | None) -> Fault | None:
        """The fault this request suffers, if any, using up one of the rule's times."""
        if not self.rules:
            return None
        for rule in self.rules:
            if rule.matches(api, kind, credential, model) and self._chance(rule):
                if rule.times_left is not None:
                    rule.times_left -= 1
                rule.applied += 1
                self._applied[rule.type] += 1
                params = {k: v for k, v in rule.spec.items() if k != "type"}
                return Fault(rule.type, params, rule.id)
        return None

    def _chance(self, rule: FaultRule) -> bool:
        return rule.probability >= 1 or self._random.random() < rule.probability

    def applied_counts(self) -> dict[str, int]:
        return dict(self._applied)

    def to_wire(self) -> list[dict[str, Any]]:
        return [rule.to_wire() for rule in self.rules]
