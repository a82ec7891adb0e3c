"""An OpenCV window as a pipeline sink (``lowlight live``).

Keys (window focused): ``e`` toggles enhancement, ``v`` cycles the view
(enhanced / side by side / split), ``q`` or Esc quits. The overlay shows the
output frame rate and the capture-to-display latency of the frame shown.

Every HighGUI call happens in the pipeline's output thread (window created on
the first frame, destroyed in :meth:`DisplaySink.thread_exit`), which GUI
toolkits require.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Callable, Optional

import cv2
import numpy as np

from lowlight.errors import BackendError
from lowlight.realtime.frame import Frame
from lowlight.realtime.sinks import Sink, StopPipeline

VIEWS = ("enhanced", "side by side", "split")


def display_available() -> bool:
    """Whether a window can be shown (on Linux: ``DISPLAY`` or ``WAYLAND_DISPLAY`` is set)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def compose_view(original: Optional[np.ndarray], enhanced: np.ndarray, view: str) -> np.ndarray:
    """The picture for ``view``: uint8 RGB; side by side doubles the width, split shows
    the original on the left half and the enhanced frame on the right half."""
    if original is None or view == "enhanced":
        return enhanced
    if view == "side by side":
        return np.concatenate([original, enhanced], axis=1)
    out = enhanced.copy()
    half = enhanced.shape[1] // 2
    out[:, :half] = original[:, :half]
    out[:, max(0, half - 1):half + 1] = 255
    return out


def draw_overlay(bgr: np.ndarray, lines: list[str]) -> None:
    """Draw text lines (white on a dark box) in the top-left corner, in place."""
    scale = max(0.4, min(1.0, bgr.shape[1] / 1280))
    y = int(22 * scale) + 4
    for line in lines:
        (tw, th), _ = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        cv2.rectangle(bgr, (4, y - th - 4), (12 + tw, y + 4), (0, 0, 0), -1)
        cv2.putText(bgr, line, (8, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
        y += th + 12


class DisplaySink(Sink):
    """Show frames in a window.

    Args:
        title: window title.
        on_toggle: called on ``e``; returns the new enhancement state (``FrameProcessor.toggle``).
        fps: callable returning the current output fps (``PipelineStats.recent_fps``), for the overlay.
        overlay: draw fps/latency/help text.
    """

    def __init__(self, title: str = "lowlight live", on_toggle: Optional[Callable[[], bool]] = None,
                 fps: Optional[Callable[[], float]] = None, overlay: bool = True) -> None:
        self.title = title
        self.on_toggle = on_toggle
        self.fps = fps
        self.overlay = overlay
        self.view = 0
        self.enhancing = True
        self._window = False
        self.shown = 0

    def open(self, info) -> None:
        if not display_available():
            raise BackendError("no display to show a window (DISPLAY is not set); use --no-display")
        self.info = info

    def write(self, frame: Frame) -> None:
        if not self._window:
            cv2.namedWindow(self.title, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)
            self._window = True
        view = VIEWS[self.view]
        rgb = compose_view(frame.original if self.enhancing else None, frame.image, view)
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        if self.overlay:
            fps = self.fps() if self.fps else 0.0
            latency = 1000.0 * (time.monotonic() - frame.captured)
            state = "on" if self.enhancing else "off"
            draw_overlay(bgr, [f"{fps:5.1f} fps  latency {latency:4.0f} ms",
                               f"[e] enhance {state}  [v] view: {view}  [q] quit"])
        cv2.imshow(self.title, bgr)
        self.shown += 1
        key = cv2.waitKey(1) & 0xFF
        if key in (ord("q"), 27):
            raise StopPipeline
        if key == ord("e") and self.on_toggle is not None:
            self.enhancing = bool(self.on_toggle())
        elif key == ord("v"):
            self.view = (self.view + 1) % len(VIEWS)
        if self.shown > 1 and cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1:
            raise StopPipeline  # window closed with the mouse

    def thread_exit(self) -> None:
        if self._window:
            try:
                cv2.destroyWindow(self.title)
                cv2.waitKey(1)
            except cv2.error:
                pass
            self._window = False
