"""Worker reuse, isolation between functions, caps, reaping, shutdown, and many threads at once."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from altostratus.functions.definitions import Invocation, Outcome, RunSpec
from altostratus.functions.runtime import ProcessRuntime, RuntimeClosed

from .conftest import MakeRuntime
from .helpers import WORKER, Deploy, error, gone_soon, process_exists, result, zombie_children

Invoke = Callable[..., Outcome]

COUNTER = (
    WORKER
    + """
import time
print("importing")
calls = 0
def handler(event, context):
    global calls
    calls += 1
    time.sleep(event.get("sleep", 0))
    return {"pid": WORKER, "calls": calls}
"""
)


def run(runtime: ProcessRuntime, spec: RunSpec, event: str = "{}") -> Outcome:
    return runtime.run(spec, Invocation(str(uuid.uuid4()), event.encode()))


def test_a_warm_worker_serves_the_next_invocation_without_importing_again(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy(COUNTER)
    first, second = invoke(spec), invoke(spec)
    assert first.cold_start and not second.cold_start
    assert result(first)["pid"] == result(second)["pid"]
    assert [result(first)["calls"], result(second)["calls"]] == [1, 2], "module state is kept"
    assert "importing" in first.log and "importing" not in second.log


def test_overlapping_invocations_get_workers_of_their_own(runtime: ProcessRuntime, deploy: Deploy) -> None:
    spec = deploy(
        WORKER
        + "import time\ndef handler(event, context):\n    started = time.time()\n    time.sleep(1.5)\n"
        + "    return {'pid': WORKER, 'span': [started, time.time()]}\n"
    )
    with ThreadPoolExecutor(3) as pool:
        seen = [result(o) for o in pool.map(lambda _: run(runtime, spec), range(3))]
    assert len({s["pid"] for s in seen}) == 3
    latest_start = max(s["span"][0] for s in seen)
    assert all(s["span"][1] > latest_start for s in seen), "all three were in their handlers at once"
    assert runtime.idle_count(spec) == 3


def test_past_the_per_function_cap_callers_wait_for_a_worker(deploy: Deploy, make_runtime: MakeRuntime) -> None:
    spec = deploy(COUNTER)
    runtime = make_runtime(max_per_function=2)
    with ThreadPoolExecutor(4) as pool:
        started = time.monotonic()
        outcomes = list(pool.map(lambda _: run(runtime, spec, '{"sleep": 0.3}'), range(4)))
        assert time.monotonic() - started >= 0.6
        assert len({result(o)["pid"] for o in outcomes}) == 2
        assert runtime.process_count() == 2


def test_past_the_global_cap_the_least_recently_used_idle_worker_makes_room(
    deploy: Deploy, make_runtime: MakeRuntime
) -> None:
    a, b, c = deploy(COUNTER), deploy(COUNTER), deploy(COUNTER)
    runtime = make_runtime(max_processes=2)
    run(runtime, a)
    (pid_a,) = runtime.worker_pids()
    run(runtime, b)
    run(runtime, c)
    assert runtime.process_count() == 2
    assert not process_exists(pid_a)
    assert not run(runtime, b).cold_start
    assert run(runtime, a).cold_start


def test_an_idle_worker_is_frozen_like_a_lambda_environment(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy(
        """
        import threading, time
        ticks = 0
        def tick():
            global ticks
            while True:
                ticks += 1
                time.sleep(0.01)
        def handler(event, context):
            if event.get("start"):
                threading.Thread(target=tick, daemon=True).start()
                time.sleep(0.2)
            return ticks
        """
    )
    before = result(invoke(spec, {"start": True}))
    time.sleep(0.5)
    after = result(invoke(spec))
    assert before >= 3, "the thread runs during an invocation"
    assert after - before < 10, "but not between invocations"


def test_idle_workers_are_reaped(deploy: Deploy, make_runtime: MakeRuntime) -> None:
    spec = deploy(COUNTER)
    runtime = make_runtime(idle_timeout=0.2)
    run(runtime, spec)
    (pid,) = runtime.worker_pids()
    deadline = time.monotonic() + 3
    while runtime.process_count() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert runtime.process_count() == 0 and gone_soon(pid)
    assert run(runtime, spec).cold_start


def test_versions_and_code_folders_get_workers_of_their_own(runtime: ProcessRuntime, deploy: Deploy) -> None:
    spec = deploy(COUNTER)
    published = dataclasses.replace(spec, version="1")
    pids = {result(run(runtime, s))["pid"] for s in (spec, published, spec, published)}
    assert len(pids) == 2


def test_environments_are_isolated_between_functions(deploy: Deploy, invoke: Invoke) -> None:
    code = "import os\ndef handler(e, c):\n    os.environ['TOUCHED'] = 'yes'\n    return os.environ.get('SECRET')\n"
    a = deploy(code, environment={"SECRET": "only-for-a"})
    b = deploy(code)
    assert result(invoke(a)) == "only-for-a"
    assert result(invoke(b)) is None
    assert result(invoke(dataclasses.replace(a, version="2"))) == "only-for-a"


def test_a_functions_modules_are_invisible_to_another(deploy: Deploy, invoke: Invoke) -> None:
    a = deploy(
        "import helper_of_a\ndef handler(e, c):\n    return helper_of_a.VALUE\n", files={"helper_of_a.py": "VALUE = 1"}
    )
    b = deploy(
        """
        def handler(event, context):
            try:
                import helper_of_a
            except ModuleNotFoundError:
                return "not found"
            return "found"
        """
    )
    assert result(invoke(a)) == 1
    assert result(invoke(b)) == "not found"


def test_the_dependency_folder_follows_the_code_folder_on_the_path(
    deploy: Deploy, invoke: Invoke, tmp_path: Path
) -> None:
    deps = tmp_path / "deps"
    deps.mkdir()
    (deps / "vendored.py").write_text("WHERE = 'deps'\n")
    (deps / "shadowed.py").write_text("WHERE = 'deps'\n")
    spec = deploy(
        "import shadowed, vendored\ndef handler(e, c):\n    return [vendored.WHERE, shadowed.WHERE]\n",
        files={"shadowed.py": "WHERE = 'code'\n"},
        deps_dir=deps,
    )
    assert result(invoke(spec)) == ["deps", "code"]


def test_shutdown_ends_every_worker_even_a_busy_one(deploy: Deploy, make_runtime: MakeRuntime) -> None:
    idle, busy = deploy(COUNTER), deploy(COUNTER)
    zombies_before = set(zombie_children())
    runtime = make_runtime()
    run(runtime, idle)
    (idle_pid,) = runtime.worker_pids()
    outcomes: list[Outcome] = []
    thread = threading.Thread(target=lambda: outcomes.append(run(runtime, busy, '{"sleep": 30}')))
    thread.start()
    deadline = time.monotonic() + 5
    while runtime.process_count() < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    runtime.shutdown()
    thread.join(5)
    assert not thread.is_alive()
    assert error(outcomes[0])["errorType"] == "Runtime.ExitError"
    assert not process_exists(idle_pid)
    assert not set(zombie_children()) - zombies_before
    with pytest.raises(RuntimeClosed):
        run(runtime, idle)


def test_many_threads_on_a_few_functions(deploy: Deploy, make_runtime: MakeRuntime) -> None:
    specs = [deploy(COUNTER), deploy(COUNTER)]
    runtime = make_runtime(max_per_function=3)
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda i: run(runtime, specs[i % 2], '{"sleep": 0.01}'), range(120)))
        assert all(o.ok for o in outcomes)
        per_function = [{result(o)["pid"] for o in outcomes[i::2]} for i in range(2)]
        assert all(1 <= len(pids) <= 3 for pids in per_function)
        assert not per_function[0] & per_function[1]
        served: dict[int, int] = {}  # each worker counts its calls; its highest count is how many it served
        for outcome in outcomes:
            seen = result(outcome)
            served[seen["pid"]] = max(served.get(seen["pid"], 0), seen["calls"])
        assert sum(served.values()) == 120
        assert runtime.process_count() <= 6


def test_a_deleted_functions_workers_are_retired_idle_ones_at_once_busy_ones_when_done(
    runtime: ProcessRuntime, deploy: Deploy
) -> None:
    gone, kept = deploy(COUNTER), deploy(COUNTER)
    run(runtime, kept)
    busy = threading.Thread(target=lambda: run(runtime, gone, '{"sleep": 2}'))
    busy.start()
    deadline = time.monotonic() + 5
    while runtime.process_count() < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    run(runtime, gone)  # the first is busy: a second worker, idle after this call
    assert (runtime.process_count(), runtime.idle_count(gone)) == (3, 1)

    runtime.retire(gone.function_name)

    assert (runtime.process_count(), runtime.idle_count(gone), runtime.idle_count(kept)) == (2, 0, 1)
    busy.join(10)
    assert runtime.process_count() == 1, "the busy worker ended with its invocation"
    assert run(runtime, kept).cold_start is False
