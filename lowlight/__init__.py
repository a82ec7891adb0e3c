"""lowlight: real-time low-light image and video enhancement with Zero-DCE / Zero-DCE++.

Public API::

    lowlight.Enhancer(model="zero-dce++", device="cpu").enhance(rgb_uint8_hxwx3)
    lowlight.load_model("zero-dce" | "zero-dce++" | path)
    lowlight.models.ZeroDCE, lowlight.models.ZeroDCEPP
    lowlight.kernels.apply_curves(image, maps, iterations=8)
"""

__version__ = "0.1.0"

from lowlight.errors import LowlightError
from lowlight.optional import lazy_exports

# torch is imported when one of these is first used, not by ``import lowlight`` (``lowlight --help``
# and the command line's argument parsing stay fast)
__getattr__ = lazy_exports(__name__, {"Enhancer": ".enhancer", "enhance_image": ".enhancer",
                                      "load_model": ".weights"})

__all__ = ["Enhancer", "LowlightError", "enhance_image", "load_model", "__version__"]
