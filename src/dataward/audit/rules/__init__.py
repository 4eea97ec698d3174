"""Importing this package registers every audit rule: each module here is one group's
rules (they are found, not listed, so adding a module is all it takes)."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
