#!/usr/bin/env python3
"""One guest connection to the coordinator: the command of run-vm.sh's guestfwd rule.

QEMU's user-mode network (libslirp) runs `guestfwd=...-cmd:COMMAND` once per TCP connection the
guest opens to the forwarded address, with the connection as the command's stdin and stdout
(stderr too: nothing may be written there, it would reach the agent). This copies bytes both
ways between it and 127.0.0.1:PORT until both sides are closed.

    relay.py HOST PORT
"""

import os
import selectors
import socket
import sys


def main() -> int:
    if len(sys.argv) != 3:
        return 2
    # stdin, stdout and stderr are the same socket: use it through one socket object, so that
    # half-closing it reaches the guest (closing fd 1 alone would not).
    guest = socket.socket(fileno=os.dup(0))
    try:
        upstream = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
    except OSError:
        return 1
    upstream.settimeout(None)
    peer = {guest: upstream, upstream: guest}
    sel = selectors.DefaultSelector()
    for sock in peer:
        sel.register(sock, selectors.EVENT_READ)
    while sel.get_map():
        for key, _ in sel.select():
            sock = key.fileobj
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            if data:
                try:
                    peer[sock].sendall(data)
                    continue
                except OSError:
                    return 0
            # End of stream: pass the half-close on and stop reading this side.
            sel.unregister(sock)
            try:
                peer[sock].shutdown(socket.SHUT_WR)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # noqa: BLE001 - stderr is the guest's connection: exit quietly
        os._exit(1)
