#!/usr/bin/env python3
"""The VM's serial console for the hang test (vm_hang_test.sh): copies what QEMU's serial
socket (run-vm.sh --serial-socket) says to stdout until QEMU closes it, as `ipmitool sol
activate` or a conserver client would. The coordinator runs it as the host's --console command
and starts it again when it ends.

    console_reader.py SOCKET
"""

import socket
import sys


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(sys.argv[1])
    except OSError as e:
        print("console: %s: %s" % (sys.argv[1], e), file=sys.stderr)
        return 1
    out = sys.stdout.buffer
    while True:
        data = sock.recv(65536)
        if not data:
            return 0
        out.write(data)
        out.flush()


if __name__ == "__main__":
    sys.exit(main())
