"""Exit codes of the ``render`` command (one home: the CLI, the batch and the Ctrl+C handler use them)."""

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
