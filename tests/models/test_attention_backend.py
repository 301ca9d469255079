"""MMPretrain 1.2's ViT and MAE encoder blocks call PyTorch's fused SDPA (flash on CUDA)."""
import torch
import torch.nn.functional as F
from mmpretrain.models import MAEViT, VisionTransformer


def _sdpa_calls(model, x):
    calls = []
    real = F.scaled_dot_product_attention

    def spy(*args, **kwargs):
        calls.append(args[0].shape)
        return real(*args, **kwargs)

    for layer in model.layers:
        assert layer.attn.scaled_dot_product_attention is real
        layer.attn.scaled_dot_product_attention = spy
    model(x)
    return calls


def test_vit_and_mae_blocks_use_torch_sdpa():
    vit = VisionTransformer(arch='deit-t', img_size=32, patch_size=16)
    assert len(_sdpa_calls(vit, torch.randn(1, 3, 32, 32))) == len(vit.layers)
    mae = MAEViT(arch='deit-t', img_size=32, patch_size=16, mask_ratio=0.75)
    calls = _sdpa_calls(mae, torch.randn(2, 3, 32, 32))
    assert len(calls) == len(mae.layers)
    assert calls[0][2] == 1 + 1  # cls token + the 1 of 4 patches left visible
