"""The OpenAI Responses API (`/v1/responses`): models, translation, stream, store and routes."""
