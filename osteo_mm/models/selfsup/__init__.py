"""Self-supervised pretext ("proxy") task algorithms."""
from .jigsaw import JigsawPuzzle
from .relative_location import RelativeLocation
from .restoration import ModelsGenesis
from .rotation import RotationPrediction, rotate_batch

__all__ = ['JigsawPuzzle', 'ModelsGenesis', 'RelativeLocation', 'RotationPrediction',
           'rotate_batch']
