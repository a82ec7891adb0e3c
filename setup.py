"""lowlight: real-time low-light video and camera enhancement (Zero-DCE / Zero-DCE++).

The repository's top-level folders install under one import namespace:
``lowlight/`` -> ``lowlight``, ``kernels/`` -> ``lowlight.kernels``,
``realtime/`` -> ``lowlight.realtime``, ``train/`` -> ``lowlight.train``.
"""

from setuptools import setup

PACKAGE_DIRS = {
    "lowlight": "lowlight",
    "lowlight.kernels": "kernels",
    "lowlight.realtime": "realtime",
    "lowlight.train": "train",
}

setup(
    name="lowlight",
    version="0.1.0",
    description="Real-time low-light video and camera enhancement with Zero-DCE / Zero-DCE++",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.9",
    packages=list(PACKAGE_DIRS),
    package_dir=PACKAGE_DIRS,
    package_data={"lowlight": ["weights/*.pt", "weights/MODEL_CARD.md", "samples/*.png"]},
    include_package_data=False,
    install_requires=[
        "torch>=2.1",
        "numpy>=1.23",
        "opencv-python>=4.8",
        "av>=12",
        "pillow>=9",
        "tqdm>=4.60",
    ],
    extras_require={
        "test": ["pytest>=7", "build", "scikit-image>=0.21"],
        "train": ["scikit-image>=0.21"],
        "tensorrt": ["torch-tensorrt>=2.1"],
    },
    entry_points={"console_scripts": ["lowlight = lowlight.cli:main"]},
)
