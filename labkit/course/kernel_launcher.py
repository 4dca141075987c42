"""Start an IPython kernel for a headless run with its own log in the run folder, not on the user's terminal.

Why: the kernel inherits the terminal's stderr, so its start-up warnings and the ZMQ tracebacks it prints when a run
is interrupted (Ctrl-C) landed above labkit's one-line message. A cell's own output never goes through this file
descriptor (the kernel forwards it into the notebook), so only the kernel's chatter moves to ``kernel.log``.
"""

from __future__ import annotations

import os

LOG_ENV = "LABKIT_KERNEL_LOG"


def main() -> None:
    log = os.environ.get(LOG_ENV)
    if log:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 2)
        os.close(fd)
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
