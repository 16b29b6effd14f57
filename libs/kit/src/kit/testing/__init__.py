"""Test support: pytest fixtures that run the real stand-in servers, and a probe service."""
