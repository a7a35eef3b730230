"""Rewriting `__module__` on public names, as httpx does (see `storepush/__init__.py`)."""

from __future__ import annotations

__all__ = ["public_module"]


def public_module(value: object, package: str) -> bool:
    """Whether `value` should report `package` as its module: a class defined in one of the
    package's private modules, without class-level annotations (which are resolved in the
    module `__module__` names), or any exception class."""
    if not isinstance(value, type) or not value.__module__.startswith(package + "._"):
        return False
    return issubclass(value, BaseException) or "__annotations__" not in vars(value)
