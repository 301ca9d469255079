"""MAE and SparK pre-training on the chest phantom: loss table and curves.

Thin entry point of :mod:`osteo_mm.experiments.mae_pretrain_phantom`
(its docstring has the options); results in docs/benchmarks.md.
"""
import sys

from osteo_mm.experiments.mae_pretrain_phantom import main

if __name__ == '__main__':
    sys.exit(main())
