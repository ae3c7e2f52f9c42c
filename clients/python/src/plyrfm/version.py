"""The SDK's version, as installed (the package's metadata)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("plyrfm")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0.0.0"
