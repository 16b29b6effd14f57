"""Shared plumbing for the services: the one place for it."""
