__version__ = "0.1.0"


def build() -> str:
    """``"compiled"`` where medref's engine was compiled with mypyc (README, "Compiled build"),
    else ``"python"``. Read from where ``medref.engine`` would load, without importing it."""
    from importlib.util import find_spec
    spec = find_spec("medref.engine")
    origin = spec.origin if spec is not None else None
    return "compiled" if origin is not None and not origin.endswith(".py") else "python"
