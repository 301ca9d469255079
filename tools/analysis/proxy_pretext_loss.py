"""Pretext-task losses of proxy-task runs against their baselines.

Thin entry point of :mod:`osteo_mm.experiments.proxy_pretext_loss`
(its docstring has the options); results in docs/benchmarks.md.
"""
import sys

from osteo_mm.experiments.proxy_pretext_loss import main

if __name__ == '__main__':
    sys.exit(main())
