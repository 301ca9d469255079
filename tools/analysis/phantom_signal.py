"""Where the label signal of the shoulder phantom lives (AUC table).

Thin entry point of :mod:`osteo_mm.experiments.phantom_signal`
(its docstring has the options); results in docs/benchmarks.md.
"""
import sys

from osteo_mm.experiments.phantom_signal import main

if __name__ == '__main__':
    sys.exit(main())
