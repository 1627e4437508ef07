"""One structured JSON logger for the whole package (Powertools; level from LOG_LEVEL)."""

from aws_lambda_powertools import Logger

logger = Logger(service="gemini-proxy")
