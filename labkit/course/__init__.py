"""Top layer: the notebook runner, parameters, sweeps, the student builder and the CLI."""
