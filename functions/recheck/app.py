"""Recheck Lambda entry: wiring only; the logic is in the gemini_proxy layer."""

from gemini_proxy.aws.recheck_handler import handler

__all__ = ["handler"]
