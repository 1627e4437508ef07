"""The generation service every dialect shares: model resolution, the orchestrator, the retries
that belong to Gemini's side, and what a request's outcome records."""
