"""Stop a runner's persistent dataloader workers before the interpreter exits.

With ``persistent_workers`` and ``pin_memory`` (the tools' defaults on a GPU), older torch
releases only join each worker at exit, without telling it to stop, and wait 5 s per worker
(pytorch/pytorch#81794). On the GPU machine (torch 2.11, 14 workers) ``tools/train.py`` lingered
about 2 minutes after its last epoch. Shutting the workers down while the process is healthy
makes the exit immediate on every torch version.
"""
from mmengine.runner import BaseLoop, Runner


def stop_dataloader_workers(runner: Runner) -> int:
    """Shut down the worker processes of the runner's built train/val/test dataloaders.

    Loops that were never built are left alone (building them would load their datasets).

    Args:
        runner (Runner): A runner after ``train()``/``val()``/``test()``.

    Returns:
        int: How many worker processes were asked to stop.
    """
    stopped = 0
    for loop in (runner._train_loop, runner._val_loop, runner._test_loop):
        loader = getattr(loop, 'dataloader', None) if isinstance(loop, BaseLoop) else None
        # torch keeps a persistent workers' iterator on the loader; there is no public API to
        # close it, and `_shutdown_workers` is what the iterator's own __del__ calls.
        iterator = getattr(loader, '_iterator', None)
        if iterator is not None and hasattr(iterator, '_shutdown_workers'):
            stopped += len(getattr(iterator, '_workers', ()))
            iterator._shutdown_workers()
            loader._iterator = None
    return stopped
