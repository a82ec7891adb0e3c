"""lowlight: real-time low-light video and camera enhancement (Zero-DCE / Zero-DCE++).

The repository's top-level folders install under one import namespace:
``lowlight/`` -> ``lowlight``, ``kernels/`` -> ``lowlight.kernels``,
``realtime/`` -> ``lowlight.realtime`` (with ``realtime/media``, ``realtime/bench``), ``train/`` -> ``lowlight.train``,
``batch/`` -> ``lowlight.batch``.
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

try:  # setuptools >= 59 re-exports these; older ones only have distutils'
    from setuptools.errors import CompileError, LinkError
except ImportError:  # pragma: no cover
    from distutils.errors import CompileError, LinkError

PACKAGE_DIRS = {
    "lowlight": "lowlight",
    "lowlight.backends": "lowlight/backends",
    "lowlight.cli": "lowlight/cli",
    "lowlight.kernels": "kernels",
    "lowlight.realtime": "realtime",
    "lowlight.realtime.media": "realtime/media",
    "lowlight.realtime.bench": "realtime/bench",
    "lowlight.train": "train",
    "lowlight.batch": "batch",
}

# Optional fused CPU curve kernel (kernels/_fused_cpu.c, loaded with ctypes by
# lowlight.kernels.fused_cpu). optional=True: without a C compiler the install
# still succeeds and lowlight falls back to the plain-torch kernel (one warning).
FUSED_CPU = Extension("lowlight.kernels._fused_cpu", sources=["kernels/_fused_cpu.c"], depends=["kernels/_cpu_common.h"],
                      optional=True)
# Optional fused denoise + curve kernel (kernels/_denoise_cpu.c, lowlight.kernels.denoise_cpu; issue 12),
# the same way: without it denoising falls back to the plain-torch reference.
DENOISE_CPU = Extension("lowlight.kernels._denoise_cpu", sources=["kernels/_denoise_cpu.c"],
                        depends=["kernels/_cpu_common.h"], optional=True)
# Optional planar YUV 4:2:0 kernel (kernels/_yuv_cpu.c, lowlight.kernels.yuv; issue 13): includes
# _denoise_cpu.c (its per-pixel code) and adds the YUV row I/O; without it the file path stays RGB.
YUV_CPU = Extension("lowlight.kernels._yuv_cpu", sources=["kernels/_yuv_cpu.c"], depends=["kernels/_denoise_cpu.c", "kernels/_cpu_common.h"],
                    optional=True)
# GCC vectorises its per-pixel loop (float selects, sqrtf) only with these (see the file's header).
_FP_FLAGS = {"unix": ["-fno-math-errno", "-fno-trapping-math"], "mingw32": ["-fno-math-errno", "-fno-trapping-math"]}
EXTRA_FLAGS = {DENOISE_CPU.name: _FP_FLAGS, YUV_CPU.name: _FP_FLAGS}

OPENMP_FLAGS = {"unix": (["-O3", "-fopenmp"], ["-fopenmp"]), "mingw32": (["-O3", "-fopenmp"], ["-fopenmp"]),
                "msvc": (["/O2", "/openmp"], [])}
PLAIN_FLAGS = {"unix": ["-O3"], "mingw32": ["-O3"], "msvc": ["/O2"]}


class BuildExt(build_ext):
    """Build the kernel with OpenMP; retry without it (one thread) if the compiler lacks OpenMP."""

    def build_extension(self, ext):
        kind = self.compiler.compiler_type
        compile_args, link_args = OPENMP_FLAGS.get(kind, ([], []))
        extra = EXTRA_FLAGS.get(ext.name, {}).get(kind, [])
        ext.extra_compile_args, ext.extra_link_args = list(compile_args) + extra, list(link_args)
        try:
            super().build_extension(ext)
        except (CompileError, LinkError):
            self.warn(f"building {ext.name} with OpenMP failed; retrying single-threaded")
            ext.extra_compile_args, ext.extra_link_args = list(PLAIN_FLAGS.get(kind, [])) + extra, []
            super().build_extension(ext)


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
    ext_modules=[FUSED_CPU, DENOISE_CPU, YUV_CPU],
    cmdclass={"build_ext": BuildExt},
    package_data={"lowlight": ["weights/*.pt", "weights/*.onnx", "weights/MODEL_CARD.md", "samples/*.png", "samples/*.mp4"],
                  "lowlight.realtime.media": ["web/*.html"]},  # the page of lowlight live --serve
    include_package_data=False,
    install_requires=[
        "torch>=2.1",
        "numpy>=1.23",
        "opencv-python>=4.8",
        "av>=12",
        "pillow>=9",
        "tqdm>=4.60",
        # the default CPU curve-estimation backend (3-5x eager torch here; benchmarks/RESULTS.md)
        "onnxruntime>=1.16",
        "onnx>=1.14",
    ],
    extras_require={
        "test": ["pytest>=7", "build", "scikit-image>=0.21", "matplotlib>=3.5", "ray>=2.9",
                 # lowlight live: the virtual-camera tests (pyvirtualcam) and the browser test (selenium
                 # drives Debian's chromium + chromium-driver, which .ci/run installs)
                 "pyvirtualcam>=0.11", "selenium>=4.10"],
        "train": ["scikit-image>=0.21"],
        "tensorrt": ["torch-tensorrt>=2.1"],
        "bench": ["matplotlib>=3.5"],
        "ray": ["ray>=2.9"],
        # lowlight live --virtual-camera (v4l2loopback on Linux, OBS virtual camera on Windows/macOS)
        "camera": ["pyvirtualcam>=0.11"],
    },
    entry_points={"console_scripts": ["lowlight = lowlight.cli:main"]},
)
