"""The operator dashboard: a page served by the proxy itself, its JSON API and sign-in."""
