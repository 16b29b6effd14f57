"""Fixtures shared by every test package: the real stand-in servers, started on demand."""

pytest_plugins = ["kit.testing.fixtures"]
