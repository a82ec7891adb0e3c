"""An OpenCV window as a pipeline sink (``lowlight live``).

Keys (window focused): ``e`` toggles enhancement, ``v`` cycles the view
(enhanced / side by side / split), ``q`` or Esc quits. The overlay shows the
output frame rate and the capture-to-display latency of the frame shown.

The picture is scaled down to fit the screen (:func:`screen_size`, less a margin for the window
frame and task bars), so a side-by-side view of a 720p or larger source fits; the panes are
labelled "original" and "enhanced". While a network source reconnects (``Frame.gap``) the last
picture is shown darkened with the note.

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
DEFAULT_SCREEN = (1280, 720)  #: assumed when the screen size cannot be read
SCREEN_FILL = 0.9  #: the largest part of the screen a window takes (room for its frame and task bars)


def screen_size() -> tuple[int, int]:
    """``(width, height)`` of the primary screen in pixels; :data:`DEFAULT_SCREEN` when unknown.

    Reads ``LOWLIGHT_SCREEN`` (``1920x1080``) first, then asks the windowing system (Xlib on Linux,
    ``GetSystemMetrics`` on Windows) without loading a GUI toolkit."""
    env = os.environ.get("LOWLIGHT_SCREEN", "")
    if "x" in env:
        try:
            w, h = (int(v) for v in env.lower().split("x", 1))
            if w > 0 and h > 0:
                return w, h
        except ValueError:
            pass
    try:
        import ctypes
        import ctypes.util

        if sys.platform.startswith("win"):
            user32 = ctypes.windll.user32  # type: ignore[attr-defined]
            return int(user32.GetSystemMetrics(0)), int(user32.GetSystemMetrics(1))
        if os.environ.get("DISPLAY"):
            name = ctypes.util.find_library("X11")
            if name:
                x11 = ctypes.CDLL(name)
                x11.XOpenDisplay.restype = ctypes.c_void_p
                x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
                x11.XDefaultScreen.argtypes = [ctypes.c_void_p]
                x11.XDisplayWidth.argtypes = x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
                x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
                dpy = x11.XOpenDisplay(None)
                if dpy:
                    try:
                        scr = x11.XDefaultScreen(dpy)
                        return int(x11.XDisplayWidth(dpy, scr)), int(x11.XDisplayHeight(dpy, scr))
                    finally:
                        x11.XCloseDisplay(dpy)
    except Exception:  # noqa: BLE001 - any failure means "unknown"
        pass
    return DEFAULT_SCREEN


def fit_scale(width: int, height: int, screen: tuple[int, int], fill: float = SCREEN_FILL) -> float:
    """The factor (<= 1) that makes a ``width x height`` picture fit ``fill`` of ``screen``."""
    return min(1.0, fill * screen[0] / max(1, width), fill * screen[1] / max(1, height))


def label_panes(bgr: np.ndarray, view: str, split_at: Optional[int] = None) -> None:
    """Write "original" / "enhanced" at the bottom of the two panes of a side-by-side or split view, in place."""
    h, w = bgr.shape[:2]
    scale = max(0.4, min(1.0, w / 1280))
    (tw, th), _ = cv2.getTextSize("enhanced", cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    y = h - 8
    if view == "side by side":
        spots = [("original", 8), ("enhanced", w // 2 + 8)]
    elif view == "split":
        mid = w // 2 if split_at is None else split_at
        spots = [("original", 8), ("enhanced", max(mid + 8, w - tw - 8))]
    else:
        return
    for text, x in spots:
        (lw, lh), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        cv2.rectangle(bgr, (x - 4, y - lh - 6), (x + lw + 4, y + 4), (0, 0, 0), -1)
        cv2.putText(bgr, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)


def gap_picture(last: Optional[np.ndarray], fallback: np.ndarray, note: str) -> np.ndarray:
    """What to show while the source reconnects: ``last`` (or ``fallback``) darkened, with ``note``
    written across it (uint8 RGB, a new array)."""
    base = last if last is not None else fallback
    out = (base.astype(np.uint16) * 2 // 5).astype(np.uint8)
    h, w = out.shape[:2]
    scale = max(0.45, min(1.2, w / 900))
    lines = note.split(", ", 1)
    y = h // 2 - 10 * len(lines)
    for line in lines:
        (tw, th), _ = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
        x = max(4, (w - tw) // 2)
        cv2.putText(out, line, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 2, cv2.LINE_AA)
        y += th + 14
    return out


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
        self.screen: Optional[tuple[int, int]] = None
        self._last: Optional[np.ndarray] = None  # the last picture shown, for the reconnecting card

    def open(self, info) -> None:
        if not display_available():
            raise BackendError("no display to show a window (DISPLAY is not set); use --no-display")
        self.info = info

    def write(self, frame: Frame) -> None:
        if not self._window:
            cv2.namedWindow(self.title, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)
            self._window = True
        view = VIEWS[self.view]
        if frame.gap is not None:
            rgb = gap_picture(self._last, frame.image, frame.gap)
        else:
            rgb = compose_view(frame.original if self.enhancing else None, frame.image, view)
            self._last = rgb
        if self.screen is None:
            self.screen = screen_size()
        scale = fit_scale(rgb.shape[1], rgb.shape[0], self.screen)
        if scale < 1.0:
            size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        if frame.gap is None and self.enhancing and frame.original is not None:
            label_panes(bgr, view)
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
