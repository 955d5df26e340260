"""The `ai-pulse` command's exit codes, and how a command ends with a message."""

from __future__ import annotations

import sys

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_BUSY = 0, 1, 2, 3


def fail(message: str, code: int) -> int:
    """Print `ai-pulse: <message>` to stderr and return the exit code."""
    print(f"ai-pulse: {message}", file=sys.stderr)
    return code
