"""seval: automated, comprehensive safety evaluation of large language models (S-Eval)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("seval")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+src"

__all__ = ["__version__"]
