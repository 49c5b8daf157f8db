"""The ``infoalign`` command line: the top layer, on top of the estimators and the evaluation.

- :mod:`.main`: the parser, :func:`main` and the one-line error reports;
- :mod:`.commands`: what each command does (heavy imports inside, so ``--help`` is instant);
- :mod:`.embed`: tables of molecules in, representation columns out (``infoalign embed``);
- :mod:`.demo`: ``infoalign demo``; :mod:`.plots`: its figures and the pretraining loss curve.

Importing this package loads no torch, pandas or scikit-learn.
"""

from .commands import UserError
from .main import HelpFormatter, build_parser, main

__all__ = ["HelpFormatter", "UserError", "build_parser", "main"]
