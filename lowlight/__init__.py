"""lowlight: real-time low-light image and video enhancement with Zero-DCE / Zero-DCE++.

Public API::

    lowlight.Enhancer(model="zero-dce++", device="cpu").enhance(rgb_uint8_hxwx3)
    lowlight.load_model("zero-dce" | "zero-dce++" | path)
    lowlight.models.ZeroDCE, lowlight.models.ZeroDCEPP
    lowlight.kernels.apply_curves(image, maps, iterations=8)
"""

__version__ = "0.1.0"

from lowlight.enhancer import Enhancer, enhance_image
from lowlight.errors import LowlightError
from lowlight.weights import load_model

__all__ = ["Enhancer", "LowlightError", "enhance_image", "load_model", "__version__"]
