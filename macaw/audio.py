"""Audio helpers shared by speak, check and master: WAV in and out, resampling, loudness, true peak.

Everything runs in-process; there is no ffmpeg. Resampling and the 4x oversampling behind
true peak are libsoxr's (soxr), loudness is libebur128's (pyebur128, the reference C
implementation of ITU-R BS.1770 / EBU R128), the limiter is numpy. scipy.signal and pyloudnorm
did the same in about a second more per episode, most of it importing scipy.signal;
tests/test_master.py checks these figures against pyloudnorm and scipy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from macaw.fsutil import atomic_replace, temp_path_for


def write_wav(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    """16-bit mono WAV, written atomically (Piper's own output is 16-bit, so nothing is lost)."""
    import soundfile as sf

    tmp = temp_path_for(Path(path))
    try:
        sf.write(tmp, np.clip(audio, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")
        atomic_replace(tmp, Path(path))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples and the sample rate (a stereo file is averaged to mono)."""
    import soundfile as sf

    data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return data.mean(axis=1).astype(np.float32), int(sr)


def resample(audio: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    if source_rate == target_rate:
        return audio
    import soxr

    return np.asarray(soxr.resample(audio.astype(np.float32), source_rate, target_rate, quality="HQ"), dtype=np.float32)


def silence(seconds: float, sample_rate: int) -> np.ndarray:
    return np.zeros(max(0, int(round(seconds * sample_rate))), dtype=np.float32)


def peak_envelope(audio: np.ndarray, factor: int = 4) -> np.ndarray:
    """Per-sample peak of the 4x oversampled signal: the inter-sample peaks a DAC would produce."""
    import soxr

    n = len(audio)
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    over = np.asarray(soxr.resample(audio.astype(np.float32), 1, factor, quality="HQ"), dtype=np.float32)
    if len(over) < n * factor:
        over = np.pad(over, (0, n * factor - len(over)))
    np.abs(over, out=over)
    # The largest of each sample's `factor` phases, one strided pass per phase: numpy's max over a
    # short last axis (reshape(n, factor).max(axis=1)) took 10x as long on a 7-minute episode.
    envelope = np.abs(audio).astype(np.float32)
    for phase in range(factor):
        np.maximum(envelope, over[phase : n * factor : factor], out=envelope)
    return envelope


def true_peak_db(audio: np.ndarray) -> float:
    """True peak in dBTP by 4x oversampling (ITU-R BS.1770-4, annex 2)."""
    if audio.size == 0:
        return float("-inf")
    peak = float(peak_envelope(audio).max())
    return 20 * np.log10(peak) if peak > 0 else float("-inf")


def loudness_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness (ITU-R BS.1770-4, gated) of mono audio, by libebur128."""
    import pyebur128

    state = pyebur128.R128State(1, int(sample_rate), pyebur128.MeasurementMode.MODE_I)
    data = np.ascontiguousarray(audio, dtype=np.float32)  # libebur128 widens each sample to double itself: same figure, no copy
    if data.size:
        state.add_frames(data, len(data))
    return float(pyebur128.get_loudness_global(state))


def moving_min(x: np.ndarray, radius: int) -> np.ndarray:
    """The minimum over [i - radius, i + radius] for every i (edges repeat), in O(n): van Herk/Gil-Werman."""
    size = 2 * radius + 1
    n = len(x)
    padded = np.pad(x, (radius, radius + (-(n + 2 * radius)) % size), mode="edge")
    blocks = padded.reshape(-1, size)
    prefix = np.minimum.accumulate(blocks, axis=1).ravel()
    suffix = np.minimum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    return np.minimum(suffix[:n], prefix[size - 1 : size - 1 + n])


def moving_mean(x: np.ndarray, size: int) -> np.ndarray:
    """The mean over `size` samples around every i (edges repeat), by a running sum."""
    n = len(x)
    padded = np.pad(x.astype(np.float64), (size // 2, size - size // 2), mode="edge")
    total = np.concatenate([[0.0], np.cumsum(padded)])
    return (total[size : size + n] - total[:n]) / size


def limit(audio: np.ndarray, sample_rate: int, ceiling_db: float, window_s: float = 0.005, envelope: np.ndarray | None = None) -> np.ndarray:
    """Bring the true peak down to `ceiling_db` with a smooth gain curve (a look-ahead limiter).

    The gain each sample needs is min-filtered over +-window, then averaged over one window: every
    averaged value is at most the gain needed at that sample, so no peak escapes, and the gain
    moves over milliseconds rather than jumping (no clicks). `envelope` (from `peak_envelope` of
    the same audio) saves the oversampling when the caller limits one signal at several gains.
    """
    ceiling = 10 ** (ceiling_db / 20)
    envelope = peak_envelope(audio) if envelope is None else envelope
    # Most of an episode needs no gain at all: the samples that may (a hair under the ceiling, so
    # rounding cannot hide one) are found in one pass, and the gain is computed only around the
    # ones that do, each stretch padded by two windows so the filters see there what they would
    # see on the whole signal; everywhere else the gain is exactly 1.
    near = np.flatnonzero(envelope > ceiling * 0.999)
    low = near[np.minimum(1.0, ceiling / np.maximum(envelope[near], 1e-12)) < 1.0]
    if low.size == 0:
        return audio
    w = max(3, int(window_s * sample_rate))
    pad = 2 * w + 2
    breaks = np.flatnonzero(np.diff(low) > 2 * pad) + 1
    out = np.array(audio, dtype=np.float32)
    for first, last in zip(low[np.r_[0, breaks]], low[np.r_[breaks - 1, len(low) - 1]]):
        a, b = max(0, first - pad), min(len(audio), last + pad + 1)
        needed = np.minimum(1.0, ceiling / np.maximum(envelope[a:b], 1e-12))
        out[a:b] = (audio[a:b] * moving_mean(moving_min(needed, w), w)).astype(np.float32)
    return out
