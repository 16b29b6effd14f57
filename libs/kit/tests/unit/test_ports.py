"""Throwaway stacks get ports no two of their servers share."""

from __future__ import annotations

from pathlib import Path

from kit.local.servers import free_ports
from kit.local.stack import Stack


def test_ports_picked_together_are_all_different_and_skip_the_avoided() -> None:
    avoid = set(free_ports(20))
    picked = free_ports(200, avoid)
    assert len(set(picked)) == 200
    assert not avoid & set(picked)


def test_a_throwaway_stack_gives_every_server_its_own_ports_grpc_included(tmp_path: Path) -> None:
    for _ in range(20):
        stack = Stack.throwaway(tmp_path)
        services = [port for name, port in stack.ports.items() if not name.startswith("s3")]
        every = [*services, *stack.s3_ports.all()]
        assert len(set(every)) == len(every), sorted(every)
