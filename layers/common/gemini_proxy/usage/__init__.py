"""Usage accounting: requests, errors and tokens per credential and model, and quota views."""
