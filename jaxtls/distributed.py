"""Sweeps, designs and searches over many processes, with JAX's distributed runtime.

A program started as P processes, each calling :func:`initialize` (or
``jax.distributed.initialize`` itself), then calling :func:`jaxtls.sweep`, :func:`jaxtls.run_doe`
or ``optimize.search_grid`` identically on every process, splits the work itself: the layout
(:func:`layout`) is JAX's ``process_index``/``process_count`` (one process when the runtime is
not started), every process takes the items ``index, index + P, ...`` of the work
(:func:`my_items`: chunks of a sweep, blocks of a search grid, variants of a search), and
the processes agree through the coordinator's key-value store: :func:`agree` (every process
described the same work, else the same ``ValueError`` on every process), :func:`broadcast`
(process 0's decision), :func:`check_all` (an error on any process is an error on all of
them), :func:`barrier` and :func:`allgather`. No XLA collective is compiled: the messages
are a few hundred bytes per call, and none is sent per chunk of a sweep.

Start P local processes with :func:`launch` (``python -m jaxtls.distributed -n P -- python
script.py``, or ``jaxtls sweep/doe ... --processes P``): the coordinator listens on
127.0.0.1 at a free port and every child finds it in ``JAXTLS_COORDINATOR``,
``JAXTLS_NUM_PROCESSES``, ``JAXTLS_PROCESS_ID``. On a cluster, :func:`initialize` without
these variables lets JAX detect SLURM, Open MPI or Kubernetes (README: a SLURM job script).

A call's keys are deleted once every process has passed a later barrier, so the coordinator
holds at most one call's keys per process; barrier records stay (the client has no call to
delete them). The key-value store is reached through
``jax._src.distributed.global_state.client`` (JAX has no public name for it; its methods have
been stable since jax 0.4).
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from typing import NamedTuple

import jax

ENV_COORDINATOR = "JAXTLS_COORDINATOR"
ENV_NUM_PROCESSES = "JAXTLS_NUM_PROCESSES"
ENV_PROCESS_ID = "JAXTLS_PROCESS_ID"
# how long a process waits for the others at a barrier (the end of a sweep waits for the
# slowest process): one day by default
TIMEOUT_S = float(os.environ.get("JAXTLS_BARRIER_TIMEOUT_S", 86400))


class Layout(NamedTuple):
    """This process's place: ``index`` in ``0 .. count - 1``."""

    index: int
    count: int


def _client():
    """The coordinator's key-value client, or None when the runtime is not started."""
    try:
        from jax._src import distributed

        return distributed.global_state.client
    except (ImportError, AttributeError):  # a JAX that moved its private state
        try:
            started = jax.distributed.is_initialized()
        except Exception:  # older or changed JAX: trust jaxtls's own launcher's variables
            started = launched()
        if not started:
            return None  # one process: nothing to coordinate
        raise RuntimeError(
            "jaxtls.distributed needs JAX's coordination key-value store "
            f"(jax._src.distributed.global_state.client), which this jax ({jax.__version__}) "
            "does not have: use a jax release with it (tested with 0.10.2), or run in one "
            "process"
        ) from None


def layout() -> Layout:
    """``Layout(jax.process_index(), jax.process_count())`` once JAX's distributed runtime is
    started, else ``Layout(0, 1)``.

    Example:
      >>> from jaxtls import distributed
      >>> distributed.layout()
      Layout(index=0, count=1)
    """
    if _client() is None:
        return Layout(0, 1)
    return Layout(jax.process_index(), jax.process_count())


def initialize(coordinator=None, num_processes=None, process_id=None) -> Layout:
    """Start JAX's distributed runtime once (later calls return the layout): from the
    arguments, else from ``JAXTLS_COORDINATOR``/``JAXTLS_NUM_PROCESSES``/``JAXTLS_PROCESS_ID``
    (set by :func:`launch`), else from the cluster (JAX detects SLURM, Open MPI, Kubernetes).
    Returns :func:`layout`. Call it before anything else uses JAX."""
    if _client() is not None:
        return layout()
    env = os.environ
    coordinator = coordinator or env.get(ENV_COORDINATOR)
    if num_processes is None and env.get(ENV_NUM_PROCESSES):
        num_processes = int(env[ENV_NUM_PROCESSES])
    if process_id is None and env.get(ENV_PROCESS_ID):
        process_id = int(env[ENV_PROCESS_ID])
    jax.distributed.initialize(
        coordinator_address=coordinator, num_processes=num_processes, process_id=process_id
    )
    return layout()


def launched() -> bool:
    """Whether this process was started by :func:`launch` (its environment names a
    coordinator)."""
    return bool(os.environ.get(ENV_COORDINATOR))


def my_items(n: int, lay: Layout | None = None) -> list[int]:
    """The items of ``0 .. n - 1`` this process takes: ``index, index + count, ...``
    (round-robin, so that a resumed sweep's remaining chunks are spread evenly too).

    Example:
      >>> my_items(7, Layout(1, 3))
      [1, 4]
    """
    lay = lay or layout()
    return list(range(lay.index, n, lay.count))


_SEQ = itertools.count()  # every process makes the same calls in the same order: same keys
_CALL = [-1]  # the number of the current call
_WRITTEN: list[tuple[int, str]] = []  # (call, key) this process wrote and has not deleted


def _key(name: str) -> str:
    _CALL[0] = next(_SEQ)
    return f"jaxtls/{_CALL[0]}/{name}"


def _set(key: str, value, as_bytes=True) -> None:
    client = _client()
    (client.key_value_set_bytes if as_bytes else client.key_value_set)(key, value)
    _WRITTEN.append((_CALL[0], key))


def _wait(key: str, timeout_s: float | None = None) -> None:
    """Wait at the barrier ``key``; once past it, every process has finished every earlier
    call, so the keys this process wrote for those are deleted (the coordinator holds at
    most one call's keys per process; a barrier's own record cannot be deleted: the client
    has no call for it)."""
    call = _CALL[0]
    _client().wait_at_barrier(key, int(1000 * (timeout_s or TIMEOUT_S)))
    done = [k for c, k in _WRITTEN if c < call]
    _WRITTEN[:] = [(c, k) for c, k in _WRITTEN if c >= call]
    for k in done:
        _client().key_value_delete(k)


def barrier(name: str = "barrier", timeout_s: float | None = None) -> None:
    """Wait until every process has reached this barrier (no-op for one process)."""
    if layout().count > 1:
        _wait(_key(name), timeout_s)


def broadcast(name: str, value: bytes | None = None) -> bytes:
    """Process 0's ``value`` on every process (the others pass anything)."""
    lay = layout()
    if lay.count == 1:
        return value
    key = _key(name)
    if lay.index == 0:
        _set(key, value)
        return value
    return _client().blocking_key_value_get_bytes(key, int(1000 * TIMEOUT_S))


def allgather(name: str, value: bytes) -> list[bytes]:
    """Every process's ``value``, in process order (``count`` messages to every process:
    for small values, e.g. the blocks of a search grid)."""
    lay = layout()
    if lay.count == 1:
        return [value]
    key = _key(name)
    _set(f"{key}/{lay.index:06d}", value)
    _wait(key + "/barrier")
    got = dict(_client().key_value_dir_get_bytes(key + "/"))
    return [got[f"{key}/{i:06d}"] for i in range(lay.count)]


def check_all(name: str, error: str | None) -> None:
    """Raise ``ValueError`` on every process if any process has an ``error`` (the message of
    the lowest such process, and how many failed); only failures are sent."""
    lay = layout()
    if lay.count == 1:
        if error:
            raise ValueError(error)
        return
    key = _key(name)
    if error:
        _set(f"{key}/{lay.index:06d}", error, as_bytes=False)
    _wait(key + "/barrier")
    failed = sorted(_client().key_value_dir_get(key + "/"))
    if failed:
        first_key, first = failed[0]
        who = int(first_key.rsplit("/", 1)[1])
        others = f" (and {len(failed) - 1} other processes)" if len(failed) > 1 else ""
        raise ValueError(f"process {who} of {lay.count}{others}: {first}")


def agree(name: str, spec: dict, error: str | None = None) -> None:
    """Check that every process describes the same work ``spec`` (a JSON-able dict): each
    compares its own with process 0's and a difference, or a local ``error``, is a
    ``ValueError`` on every process naming the first field that differs."""
    lay = layout()
    if lay.count == 1:
        check_all(name, error)
        return
    theirs = json.loads(broadcast(name + "/spec", json.dumps(spec, sort_keys=True).encode()))
    if error is None:
        differ = [k for k in sorted(set(spec) | set(theirs)) if spec.get(k) != theirs.get(k)]
        if differ:
            error = (
                f"{name}: this process's {differ[0]} is {spec.get(differ[0])!r}, process 0's "
                f"is {theirs.get(differ[0])!r} (differences in {', '.join(differ)}): every "
                f"process must call {name} with the same arguments"
            )
    check_all(name, error)


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(command, processes: int, *, timeout_s: float | None = None, quiet_others=False) -> int:
    """Run ``command`` (argv list) as ``processes`` local processes of one distributed
    program: the coordinator on 127.0.0.1 at a free port, passed in the environment
    (:func:`initialize` reads it). When a process fails, the others are stopped (they would
    wait for it at the next barrier) and stderr says which process and how it ended.
    Returns its exit status (``128 + N`` for a process killed by signal ``N``, as a shell
    reports it; 124 after ``timeout_s``), else 0.
    ``quiet_others`` sends the standard output of processes 1.. to /dev/null (their errors
    still reach stderr).

    Example (shell): ``python -m jaxtls.distributed -n 2 -- python my_sweep.py``
    """
    if int(processes) != processes or processes < 1:
        raise ValueError(f"processes must be an integer >= 1, got {processes!r}")
    address = f"127.0.0.1:{free_port()}"
    children = []
    for i in range(int(processes)):
        env = dict(os.environ)
        env.update({ENV_COORDINATOR: address, ENV_NUM_PROCESSES: str(processes)})
        env[ENV_PROCESS_ID] = str(i)
        out = subprocess.DEVNULL if quiet_others and i else None
        children.append(subprocess.Popen(list(command), env=env, stdout=out))
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    status = 0
    try:
        while any(c.poll() is None for c in children):
            failed = [i for i, c in enumerate(children) if c.poll() not in (None, 0)]
            late = deadline is not None and time.monotonic() > deadline
            if failed or late:
                status = _exit_status(children[failed[0]].returncode) if failed else 124
                why = _died(failed[0], children) if failed else f"still running after {timeout_s} s"
                print(f"jaxtls.distributed: {why}; stopping the others", file=sys.stderr)
                break
            time.sleep(0.05)
    finally:
        _stop([c for c in children if c.poll() is None], grace_s=5.0 if status else 0.0)
    if status:
        return status
    failed = [i for i, c in enumerate(children) if c.returncode]  # ended in the same poll
    if failed:
        print(f"jaxtls.distributed: {_died(failed[0], children)}", file=sys.stderr)
        return _exit_status(children[failed[0]].returncode)
    return 0


def _exit_status(returncode: int) -> int:
    """A child's exit status as a shell reports it (128 + N for a child killed by signal N)."""
    return 128 - returncode if returncode < 0 else returncode


def _died(i: int, children) -> str:
    code = children[i].returncode
    how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
    return f"process {i} of {len(children)} {how}"


def _stop(children, grace_s) -> None:
    """Let ``children`` finish for ``grace_s`` (to print their own error), then kill them."""
    end = time.monotonic() + grace_s
    for c in children:
        try:
            c.wait(timeout=max(end - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            c.send_signal(signal.SIGKILL)
            c.wait()


def main(argv=None) -> int:
    """``python -m jaxtls.distributed -n P [--timeout S] -- COMMAND ...``."""
    import argparse

    p = argparse.ArgumentParser(
        prog="python -m jaxtls.distributed",
        description="Run COMMAND as P local processes of one jax.distributed program "
        "(coordinator on 127.0.0.1); the program calls jaxtls.distributed.initialize().",
    )
    p.add_argument("-n", "--processes", type=int, required=True)
    p.add_argument("--timeout", type=float, default=None, help="seconds before all are killed")
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        p.error("give the COMMAND to run after --")
    return launch(command, args.processes, timeout_s=args.timeout)


if __name__ == "__main__":
    sys.exit(main())
