#!/usr/bin/env python3
"""The VM's power method for the hang test (vm_hang_test.sh): one QMP command to the QEMU that
run-vm.sh started with --qmp-socket, as a BMC's `chassis power` would be.

    qmp.py SOCKET cycle|status|off|on

cycle = system_reset (the machine resets and boots again, as a power cycle does), status =
query-status (prints "running" or the state), off = stop (the CPUs halt), on = cont. Prints
QEMU's answer; exits 1 when QEMU refuses or cannot be reached within 10 s.
"""

import json
import socket
import sys

COMMANDS = {"cycle": "system_reset", "status": "query-status", "off": "stop", "on": "cont"}


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[2] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    try:
        sock.connect(sys.argv[1])
        stream = sock.makefile("rw")
        json.loads(stream.readline())  # the greeting

        def execute(command):
            stream.write(json.dumps({"execute": command}) + "\n")
            stream.flush()
            while True:
                reply = json.loads(stream.readline())
                if "return" in reply or "error" in reply:
                    return reply  # (events, such as RESET, come in between)

        execute("qmp_capabilities")
        reply = execute(COMMANDS[sys.argv[2]])
    except (OSError, ValueError) as e:
        print("qmp: %s: %s" % (sys.argv[1], e), file=sys.stderr)
        return 1
    if "error" in reply:
        print("qmp: %s" % reply["error"].get("desc", reply["error"]))
        return 1
    result = reply["return"]
    if sys.argv[2] == "status":
        print("Chassis Power is %s" % ("on" if result.get("running") else result.get("status")))
    else:
        print("%s: done" % COMMANDS[sys.argv[2]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
