"""Run one function in a forked child process under a memory limit, so that a file that needs more
memory than allowed (a pixel bomb, a huge spreadsheet, PDFium on a hostile page) costs one failed
extraction, never the worker.

The child is a fork of the worker: it shares the worker's code and open file objects and starts at
once (no Django set-up). Its address space may grow by `memory_mb` beyond the worker's own at the
fork (RLIMIT_AS, inherited by the Tesseract it runs); past that an allocation fails with MemoryError
(or, in C code, with an error of its own). It never touches the database: it sends its result, or the
exception it raised, back through a pipe, pickled, and ends with os._exit (no clean-up of the
worker's connections). A child that dies without an answer (killed, a crash in C code) raises
ChildDied. The peak resident memory of each child is logged.

Without fork or setrlimit (Windows), or with memory_mb 0, the function runs in this process.
"""

import logging
import os
import pickle
import signal

logger = logging.getLogger(__name__)


class ChildDied(Exception):
    """The child ended without a result: `signal_number` (or exit `status`) says how."""

    def __init__(self, message: str, *, signal_number: int | None = None, status: int | None = None):
        self.signal_number = signal_number
        self.status = status
        super().__init__(message)


def available() -> bool:
    try:
        import resource  # noqa: F401
    except ImportError:  # pragma: no cover - not on Linux
        return False
    return hasattr(os, "fork")


def _address_space() -> int:
    """This process's current virtual size in bytes (0 when unknown)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _limit_memory(memory_mb: int) -> None:
    import resource

    limit = _address_space() + memory_mb * 1024 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _portable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling, else a RuntimeError naming it."""
    try:
        pickle.loads(pickle.dumps(exc))  # nosec B301  # our own bytes, made on the line itself
    except Exception:  # noqa: BLE001 - anything a library raises must still reach the worker
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def run_limited(function, *, memory_mb: int, label: str = "task"):
    """function() in a child limited to `memory_mb` MB more than this process; its return value, or
    its exception raised here. An exception raised here while waiting (the time limit's alarm) kills
    the child first."""
    if memory_mb <= 0 or not available():
        return function()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        status = 0
        try:
            os.close(read_fd)
            try:
                _limit_memory(memory_mb)
                outcome = (True, function())
            except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
                outcome = (False, _portable(exc))
            try:
                payload = pickle.dumps(outcome)
            except Exception as exc:  # noqa: BLE001
                payload = pickle.dumps((False, RuntimeError(f"the result cannot be sent back ({exc})")))
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(payload)
        except BaseException:  # noqa: BLE001
            status = 70
        finally:
            os._exit(status)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd, "rb") as pipe:
            payload = pipe.read()
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    _, status, usage = os.wait4(pid, 0)
    peak_mb = usage.ru_maxrss / 1024  # KiB on Linux
    logger.info("%s ran in child %s: peak resident memory %.0f MB (limit %s MB over the worker's)",
                label, pid, peak_mb, memory_mb)
    if payload:
        # B301: the child is a fork of this process, with its privileges, keys and code: a child taken
        # over by a hostile file gains nothing by a crafted answer that it could not do itself.
        ok, value = pickle.loads(payload)  # nosec B301
        if ok:
            return value
        raise value
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        raise ChildDied(f"the process reading the file was killed by signal {number} "
                        f"({signal.Signals(number).name}; peak memory {peak_mb:.0f} MB)", signal_number=number)
    code = os.waitstatus_to_exitcode(status)
    raise ChildDied(f"the process reading the file ended with status {code} and no result", status=code)
