"""Gemini's own API (`/v1beta/models/{model}:generateContent` and the rest) through the pool.

The request body is Gemini's own and goes upstream as the client sent it; answers and stream
events come back unchanged (Code Assist's envelope aside). The proxy checks only what it must:
the model id, the method, a JSON object within the size limit.
"""
