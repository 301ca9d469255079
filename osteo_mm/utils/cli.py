"""Helpers shared by the command-line tools: config loading and one-line user errors."""
import functools
import os.path as osp
import sys
from typing import Callable, Optional

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


def cli_main(main: Callable[[], None]) -> Callable[[], None]:
    """Decorate a tool's ``main`` so expected user errors print ``error: ...`` and exit 2."""

    @functools.wraps(main)
    def wrapper() -> None:
        try:
            main()
        except (UserInputError, UnsafeCheckpointError, FileNotFoundError) as err:
            print(f'error: {err}', file=sys.stderr)
            sys.exit(2)

    return wrapper
