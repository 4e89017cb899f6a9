"""Every deliberate error lives in ``amsread.errors``, with its own reason and exit code."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import amsread
from amsread import errors
from amsread.errors import AmsReadError


def _all_error_classes() -> set[type[AmsReadError]]:
    found: set[type[AmsReadError]] = set()
    for info in pkgutil.walk_packages(amsread.__path__, "amsread."):
        if info.name == "amsread.__main__":
            continue
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, AmsReadError):
                found.add(obj)
    return found


def test_every_error_class_is_declared_in_the_errors_module() -> None:
    classes = _all_error_classes()
    assert {c.__name__ for c in classes if c.__module__ != "amsread.errors"} == set()
    assert {"MbusChecksumError", "BlockTransferError", "SimulatorError"} <= {c.__name__ for c in classes}


def test_each_error_class_has_a_reason_and_an_exit_code() -> None:
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, AmsReadError)]
    # a class counts under its own reason, or deliberately under its parent's (MissingKeyError and
    # WrongKeyError are "decryption failed" in the summary, with their own advice)
    assert all(c.reason for c in classes)
    own = [c.reason for c in classes if "reason" in vars(c)]
    assert len(set(own)) == len(own)
    assert all(isinstance(c.exit_code, int) and c.exit_code >= 1 for c in classes)
