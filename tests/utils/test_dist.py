"""CPU process-group teardown used by tools/train.py and tools/test.py."""
from types import SimpleNamespace

import torch.distributed as dist

from osteo_mm.utils.dist import release_distributed


def test_release_drops_the_model_wrapper_and_destroys_the_group_once(tmp_path):
    runner = SimpleNamespace(model='wrapper')
    assert release_distributed(runner) is False  # nothing to do outside a distributed run
    assert runner.model == 'wrapper'
    dist.init_process_group('gloo', init_method=f'file://{tmp_path / "store"}', rank=0,
                            world_size=1)
    assert release_distributed(runner) is True
    assert runner.model is None and not dist.is_initialized()
    assert release_distributed(runner) is False
