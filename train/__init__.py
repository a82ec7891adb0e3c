"""Zero-reference training for DCE-Net (``lowlight.train``)."""
