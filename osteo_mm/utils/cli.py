"""Helpers shared by the command-line tools: config loading and one-line user errors."""
import functools
import os.path as osp
import re
import sys
from typing import Callable, List, Optional

from mmengine.config import Config

from .checkpoint import UnsafeCheckpointError


class UserInputError(Exception):
    """Bad input from the user (path, config, option); reported as one line, exit code 2."""


def require_file(path: str, what: str) -> str:
    """Return ``path`` if it is an existing file, else raise :class:`UserInputError`.

    Args:
        path (str): The path given by the user.
        what (str): What the file is, for the message (e.g. ``'config'``).
    """
    if not osp.isfile(path):
        raise UserInputError(f'{what} file not found: {path}')
    return path


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Load an MMEngine config with clear errors for missing files and syntax errors.

    Args:
        path (str): Config file path.
        cfg_options (dict, optional): ``--cfg-options`` overrides merged into the config.

    Returns:
        Config: The loaded config.
    """
    require_file(path, 'config')
    try:
        cfg = Config.fromfile(path)
    except SyntaxError as err:
        # MMEngine wraps the parser's message; keep its last line (file, line, reason).
        raise UserInputError(f'config {path} has a syntax error: '
                             f'{str(err).strip().splitlines()[-1]}') from None
    except FileNotFoundError as err:
        raise UserInputError(f'config {path}: {err}') from None
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def _expected_errors() -> tuple:
    """Errors that mean bad input (path, config, data, protocol), not a bug."""
    from osteo_mm.datasets.errors import XrayDataError

    from .protocol import ProtocolError
    from .threshold_record import ThresholdMismatchError
    return (UserInputError, UnsafeCheckpointError, FileNotFoundError, XrayDataError,
            ProtocolError, ThresholdMismatchError)


def one_line(err: BaseException) -> str:
    """The message of an expected error as one line.

    An error re-raised from a DataLoader worker carries the worker's traceback in its message;
    its last line (``Type: message``) is kept, without the type. The prefix MMEngine's registry
    adds to errors raised while building an object is dropped.

    Args:
        err (BaseException): The error.

    Returns:
        str: One line.
    """
    text = str(err).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if 'Traceback (most recent call last)' in text and lines:
        last = lines[-1]
        head, sep, rest = last.partition(': ')
        text = rest if sep and head.replace('.', '').replace('_', '').isalnum() else last
    else:
        text = ' '.join(lines)
    # MMEngine's registry prefixes "class `X` in module/path.py: " to errors raised by __init__.
    return re.sub(r'^class `\w+` in \S+: ', '', text)


def cli_main(main: Callable[[], None]) -> Callable[[], None]:
    """Decorate a tool's ``main``: expected errors end in one line ``error: ...`` and exit 2.

    Expected errors are bad paths, configs, checkpoints, data files (:class:`XrayDataError`,
    also when raised while the Runner builds its datasets or in a DataLoader worker), protocol
    violations and threshold/checkpoint mismatches. ``--debug`` anywhere on the command line
    (removed before the tool parses its arguments) shows the full traceback instead.
    """

    @functools.wraps(main)
    def wrapper(argv: Optional[List[str]] = None) -> None:
        args = list(sys.argv[1:] if argv is None else argv)
        debug = '--debug' in args
        args = [a for a in args if a != '--debug']
        if argv is None:
            sys.argv[1:] = args
        try:
            main() if argv is None else main(args)
        except _expected_errors() as err:
            if debug:
                raise
            print(f'error: {one_line(err)}', file=sys.stderr)
            sys.exit(2)

    return wrapper
