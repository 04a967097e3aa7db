"""How busy the GPU was: NVML's utilisation counter sampled in a background thread.

NVML's `utilization.gpu` is the share of the last sample period during which
at least one kernel ran on the device; its mean over a training loop is the
share of the loop the GPU spent computing rather than waiting for the host
(data loading, Python, synchronisation).
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class BusySampler:
    """Use as a context manager around work on `device` (a torch.device); `percent` is the
    mean utilisation, None on a CPU or without NVML (nvidia-ml-py)."""

    def __init__(self, device, interval: float = 0.05):
        self.device, self.interval = device, interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        if self.device.type != "cuda":
            return self
        try:
            import pynvml

            pynvml.nvmlInit()
            handle = pynvml.nvmlDeviceGetHandleByIndex(self.device.index or 0)
        except Exception as err:  # noqa: BLE001  pynvml.NVMLError has no stable import path across versions
            log.info("GPU utilisation not sampled: %s", err)
            return self

        def sample():
            while not self._stop.wait(self.interval):
                self.samples.append(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    @property
    def percent(self) -> float | None:
        return sum(self.samples) / len(self.samples) if self.samples else None
