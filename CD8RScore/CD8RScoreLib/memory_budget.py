"""How much memory (bytes) this process may still take: what the system has available, within the process's
address-space limit (``ulimit -v``), so that a lesion too large to score is refused before its VOIs are built
instead of ending in a MemoryError or the out-of-memory killer."""
from __future__ import annotations

import resource


def _proc_kib(path: str, key: str) -> "int | None":
    """The value (kiB) of ``key`` in a /proc file (Linux); None elsewhere."""
    try:
        with open(path, encoding="ascii") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def available_bytes() -> "float | None":
    """Bytes this process may still allocate: MemAvailable, and at most its address-space limit less the address
    space it uses; None when neither is known (not Linux, no limit)."""
    budget = None
    available_kib = _proc_kib("/proc/meminfo", "MemAvailable")
    if available_kib is not None:
        budget = available_kib * 1024.0
    limit, _ = resource.getrlimit(resource.RLIMIT_AS)
    used_kib = _proc_kib("/proc/self/status", "VmSize")
    if limit != resource.RLIM_INFINITY and used_kib is not None:
        room = float(limit) - used_kib * 1024.0
        budget = room if budget is None else min(budget, room)
    return budget
