"""One phantom and one tiny checkpoint for all serving tests (built once per session)."""
import pytest
from serving_fixtures import make_model


@pytest.fixture(scope='session')
def tiny_resnet(tmp_path_factory):
    """``(tmp, config, checkpoint)`` of the tiny ResNet-18 (see :func:`make_model`)."""
    tmp = str(tmp_path_factory.mktemp('tiny'))
    config, ckpt = make_model(tmp)
    return tmp, config, ckpt
