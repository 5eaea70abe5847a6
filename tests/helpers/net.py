"""What processes listen on: the check that a cluster under test binds to loopback only."""

from __future__ import annotations

import psutil  # a dependency of distributed


def listening(pids: list[int]) -> set[str]:
    """The addresses the processes ``pids`` accept TCP connections on (IPv4 and IPv6)."""
    found = set()
    for pid in pids:
        for conn in psutil.Process(pid).net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN:
                found.add(conn.laddr.ip)
    return found
