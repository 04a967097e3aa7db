"""How busy the GPU was: NVML's utilisation counter sampled in a background thread.

NVML's `utilization.gpu` is the share of the last sample period during which
at least one kernel ran on the device; its mean over a training loop is the
share of the loop the GPU spent computing rather than waiting for the host
(data loading, Python, synchronisation). NVML numbers the machine's cards itself, ignoring
CUDA_VISIBLE_DEVICES, so the device is looked up by the entry that variable lists for it.
"""

from __future__ import annotations

import logging
import threading

from gfm_limits.devices import nvml_device

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
            card = nvml_device(self.device.index or 0)  # a job's cuda:0 is its own card (devices.py)
            handle = (pynvml.nvmlDeviceGetHandleByIndex(card) if isinstance(card, int)
                      else pynvml.nvmlDeviceGetHandleByUUID(card))
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
