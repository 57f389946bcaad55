"""The execution layer of functions: handlers run in isolated worker processes, kept warm between invocations.

`ProcessRuntime.run(spec, invocation) -> Outcome` is the whole interface (thread-safe; `shutdown()` ends every
worker). `pool.py` keeps the workers, `process.py` runs one worker and enforces its timeout and memory limit,
`worker_main.py` is the program inside the worker, `logs.py` bounds and frames the log, `spawner.py` forks
workers from one long-lived thread so that they die with the server.
"""

from altostratus.functions.runtime.logs import BoundedLog
from altostratus.functions.runtime.pool import ProcessRuntime, RuntimeClosed
from altostratus.functions.runtime.process import WorkerOptions, WorkerProcess, WorkerStartFailed

__all__ = ["BoundedLog", "ProcessRuntime", "RuntimeClosed", "WorkerOptions", "WorkerProcess", "WorkerStartFailed"]
