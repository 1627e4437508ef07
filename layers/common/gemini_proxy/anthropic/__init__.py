"""The Anthropic Messages API dialect (`/v1/messages`), as Claude Code and its SDKs speak it."""
