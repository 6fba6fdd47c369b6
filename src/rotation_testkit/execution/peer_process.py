"""Which process is at the other end of a loopback TCP connection (Linux, from /proc).

A server on 127.0.0.1 sees only a peer's port. The kernel lists every TCP socket in
``/proc/net/tcp`` (and ``tcp6``) with its inode; a process's open sockets appear in
``/proc/PID/fd`` as ``socket:[inode]``. So the peer socket (local port = the client's, remote
port = the server's) can be matched to the processes that hold it.
"""

from __future__ import annotations

import os

from .reaper import descendants

_TABLES = ("/proc/net/tcp", "/proc/net/tcp6")


def _peer_socket_inodes(client_port: int, server_port: int) -> set[str]:
    inodes: set[str] = set()
    for table in _TABLES:
        try:
            with open(table) as rows:
                next(rows, None)  # the header
                for row in rows:
                    fields = row.split()
                    if len(fields) < 10:
                        continue
                    local_port = int(fields[1].rsplit(":", 1)[1], 16)
                    remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                    if local_port == client_port and remote_port == server_port:
                        inodes.add(fields[9])
        except (OSError, ValueError, IndexError):
            continue
    return inodes


def _holds_socket(pid: int, inodes: set[str]) -> bool:
    wanted = {f"socket:[{inode}]" for inode in inodes}
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                return True
        except OSError:
            continue
    return False


def connection_belongs_to_tree(client_port: int, server_port: int, root: int) -> bool:
    """True when a process in ``root``'s tree holds the client end of the connection.

    Where /proc does not list sockets (not Linux), every loopback peer is accepted.
    """
    if not os.path.exists(_TABLES[0]):
        return True
    inodes = _peer_socket_inodes(client_port, server_port)
    if not inodes:
        return False
    return any(_holds_socket(pid, inodes) for pid in [root, *descendants(root)])
