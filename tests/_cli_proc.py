"""Run ``python -c 'from railwatch.cli.main import main; ...' ARGS`` as its own process,
without paying Python's and railwatch's imports for every command (2026-12-07, session 46).

A test that runs dozens of commands, each as a script or a cron job would (its own
process, stdout and stderr pipes, stdin ``/dev/null``, its own environment and folder),
paid Python's start-up and railwatch's imports for each: about 0.4 s of the 1 s of CPU
that one of test_cli_consistency_s35's JSON commands takes. :func:`run_cli` keeps, per
environment, one helper process that has imported what the commands import
(:data:`PRELOAD`), and forks it for each command: the command is still a process of its
own whose file descriptors 0, 1 and 2 are ``/dev/null`` and two fresh pipes, run by the
same ``-c`` code, with ``sys.argv == ['-c', *ARGS]``, and it ends as a script ends
(``sys.exit`` at the top level: ``atexit`` handlers, flushed streams, a traceback and
status 1 for an uncaught exception). What differs from
``subprocess.run([sys.executable, "-c", RUN, *ARGS])``:

- the modules of :data:`PRELOAD` were imported before the command's folder was entered;
  railwatch reads nothing at import time (settings are read when made), and whatever
  those imports wrote to stdout or stderr is given back at the start of each
  command's own output, as a fresh process would write it;
- the helper is started with the command's whole environment (one helper per distinct
  environment), so what a library reads from it at import time is the same;
- every command of one helper has the same hash seed (``PYTHONHASHSEED``), not a new one.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import locale
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

#: What most commands import (about 0.5 s of a command's CPU). None of it starts a Python
#: thread or keeps a file open; numpy's OpenBLAS starts its thread pool, which OpenBLAS
#: shuts down before a fork itself (pthread_atfork) and starts again when next used.
#: Left out: railwatch.pipeline and railwatch.stac, whose OpenCV, PROJ and ONNX Runtime
#: start threads or open databases at import (a fork would share them), and rasterio,
#: matplotlib and the like, which saved no measurable time more.
PRELOAD = (
    "railwatch.cli.main",
    "railwatch.cli._common",
    "railwatch.settings",
    "railwatch.storage",
    "railwatch.sites",
    "typer",
    "sqlalchemy",
)

#: The code of ``python -c`` that a test would run: import the CLI, run it, exit.
RUN = "import sys; from railwatch.cli.main import main; sys.exit(main())"

_HERE = str(Path(__file__).resolve().parent)
_SERVE = (
    "import sys; sys.path.insert(0, {here!r}); import _cli_proc; _cli_proc.serve({fd}); "
    "del sys.modules['_cli_proc'], _cli_proc; " + RUN
)

_MAX_HELPERS = 2  # pytest sets PYTEST_CURRENT_TEST: a test rarely reuses an older one
_lock = threading.Lock()
_helpers: dict[tuple[tuple[str, str], ...], _Helper] = {}


def serve(fd: int) -> None:
    """In the helper process: import :data:`PRELOAD`, then fork a child for each request
    read from the socket ``fd``; the child returns (to run the command), the helper never
    does (it exits when the socket closes)."""
    sys.path.remove(_HERE)  # as for a plain ``python -c``: '' first, no tests/
    sys.argv[1:] = []
    sock = socket.socket(fileno=fd)
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    sys.stdout.flush()
    sys.stderr.flush()
    assert threading.active_count() == 1, threading.enumerate()
    sock.sendall(b"ready")
    while True:
        try:
            data, fds, _flags, _addr = socket.recv_fds(sock, 1 << 20, 2)
        except OSError:
            os._exit(0)
        if not data:
            os._exit(0)
        request = json.loads(data)
        pid = os.fork()
        if pid == 0:  # the command's process
            sock.close()
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(fds[0], 1)
            os.dup2(fds[1], 2)
            for fd_ in (null, *fds):
                os.close(fd_)
            os.chdir(request["cwd"])
            sys.argv[1:] = request["args"]
            return
        for fd_ in fds:
            os.close(fd_)
        sock.sendall(b"pid %d" % pid)
        _, status = os.waitpid(pid, 0)
        sock.sendall(b"status %d" % os.waitstatus_to_exitcode(status))


class _Helper:
    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        code = _SERVE.format(here=_HERE, fd=theirs.fileno())
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(theirs.fileno(),),
        )
        theirs.close()
        #: The command being run (its pid), until its status is read.
        self.pid: int | None = None
        ready = self.sock.recv(64)
        if ready != b"ready":
            _out, err = self.proc.communicate(timeout=60)
            raise RuntimeError(f"the CLI helper did not start: {err.decode(errors='replace')}")
        # what the imports wrote: a fresh process writes it first (flushed before "ready")
        self.preamble = [_read_now(self.proc.stdout), _read_now(self.proc.stderr)]

    def run(self, args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
        """The command's result; on any exception (its timeout, or one raised into this
        thread meanwhile: pytest-timeout's, Ctrl-C) the helper is closed, its command
        killed, and no other command is sent to it: a reply left unread made the next
        command of the same helper fail and the ones after it get their predecessor's
        exit status (review of 2026-12-07, session 46)."""
        try:
            return self._run(args, cwd, timeout)
        except BaseException:
            self.close()
            raise

    def _run(self, args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            request = json.dumps({"args": args, "cwd": str(cwd)}).encode()
            socket.send_fds(self.sock, [request], [out_w, err_w])
        finally:
            os.close(out_w)
            os.close(err_w)
        try:
            reply = self.sock.recv(64)
            if not reply.startswith(b"pid "):
                raise RuntimeError(f"the CLI helper stopped: {reply!r}")
            self.pid = pid = int(reply.split()[1])
            return self._output(args, pid, out_r, err_r, timeout)
        finally:
            for fd in (out_r, err_r):
                with contextlib.suppress(OSError):  # closed at its end of file
                    os.close(fd)

    def _output(
        self, args: list[str], pid: int, out_r: int, err_r: int, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        chunks: dict[int, list[bytes]] = {out_r: [self.preamble[0]], err_r: [self.preamble[1]]}
        with selectors.DefaultSelector() as sel:
            sel.register(out_r, selectors.EVENT_READ)
            sel.register(err_r, selectors.EVENT_READ)
            deadline = _now() + timeout
            while sel.get_map():
                left = deadline - _now()
                ready = sel.select(max(left, 0)) if left > 0 else []
                if not ready:
                    # (ended already where a process it started holds its stdout)
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                    raise subprocess.TimeoutExpired([RUN, *args], timeout)
                for key, _ in ready:
                    fd = int(key.fd)
                    data = os.read(fd, 1 << 16)
                    if data:
                        chunks[fd].append(data)
                    else:
                        sel.unregister(fd)
        reply = self.sock.recv(64)
        if not reply.startswith(b"status "):
            raise RuntimeError(f"the CLI helper stopped: {reply!r}")
        self.pid = None
        return subprocess.CompletedProcess(
            [sys.executable, "-c", RUN, *args],
            int(reply.split()[1]),
            _text(b"".join(chunks[out_r])),
            _text(b"".join(chunks[err_r])),
        )

    def close(self) -> None:
        """Stop the helper (it exits when its socket closes), and the command it runs,
        if any (a command left running kept the helper waiting for it)."""
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.pid = None
        self.sock.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


def _now() -> float:
    return time.monotonic()


def _text(data: bytes) -> str:
    """``data`` as ``subprocess.run(..., text=True)`` gives it: decoded with the locale's
    encoding, line ends made ``\\n``."""
    text = data.decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read_now(pipe: object) -> bytes:
    """What is in the pipe now, without waiting for more."""
    fd = pipe.fileno()  # type: ignore[attr-defined]
    os.set_blocking(fd, False)
    chunks = []
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def run_cli(
    args: list[str], cwd: Path, env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """What ``subprocess.run([sys.executable, "-c", RUN, *args], cwd=cwd, env=env,
    stdin=DEVNULL, capture_output=True, text=True, timeout=timeout)`` returns, from a
    process forked off a helper that has the imports done (see the module's doc)."""
    key = tuple(sorted(env.items()))
    with _lock:
        helper = _helpers.pop(key, None)
        if helper is None or helper.proc.poll() is not None or helper.sock.fileno() < 0:
            helper = _Helper(env, cwd)
        _helpers[key] = helper  # the latest used last
        while len(_helpers) > _MAX_HELPERS:
            _helpers.pop(next(iter(_helpers))).close()
        return helper.run(args, cwd, timeout)


def _close_all() -> None:
    with _lock:
        while _helpers:
            _helpers.popitem()[1].close()


atexit.register(_close_all)
