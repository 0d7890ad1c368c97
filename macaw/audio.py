"""Audio helpers shared by speak, check and master: WAV in and out, resampling, loudness, true peak.

Everything runs in-process (numpy, scipy, soundfile, pyloudnorm); there is no ffmpeg.
"""

from __future__ import annotations

from math import gcd
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
    from scipy.signal import resample_poly

    g = gcd(source_rate, target_rate)
    return resample_poly(audio, target_rate // g, source_rate // g).astype(np.float32)


def silence(seconds: float, sample_rate: int) -> np.ndarray:
    return np.zeros(max(0, int(round(seconds * sample_rate))), dtype=np.float32)


def peak_envelope(audio: np.ndarray, factor: int = 4) -> np.ndarray:
    """Per-sample peak of the 4x oversampled signal: the inter-sample peaks a DAC would produce."""
    from scipy.signal import resample_poly

    over = np.abs(resample_poly(audio, factor, 1))
    n = len(audio)
    return over[: n * factor].reshape(n, factor).max(axis=1)


def true_peak_db(audio: np.ndarray) -> float:
    """True peak in dBTP by 4x oversampling (ITU-R BS.1770-4, annex 2)."""
    if audio.size == 0:
        return float("-inf")
    peak = float(peak_envelope(audio).max())
    return 20 * np.log10(peak) if peak > 0 else float("-inf")


def loudness_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness (ITU-R BS.1770, gated), via pyloudnorm."""
    import pyloudnorm

    return float(pyloudnorm.Meter(sample_rate).integrated_loudness(audio.astype(np.float64)))


def limit(audio: np.ndarray, sample_rate: int, ceiling_db: float, window_s: float = 0.005, envelope: np.ndarray | None = None) -> np.ndarray:
    """Bring the true peak down to `ceiling_db` with a smooth gain curve (a look-ahead limiter).

    The gain each sample needs is min-filtered over +-window, then averaged over one window: every
    averaged value is at most the gain needed at that sample, so no peak escapes, and the gain
    moves over milliseconds rather than jumping (no clicks). `envelope` (from `peak_envelope` of
    the same audio) saves the oversampling when the caller limits one signal at several gains.
    """
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    ceiling = 10 ** (ceiling_db / 20)
    envelope = peak_envelope(audio) if envelope is None else envelope
    needed = np.minimum(1.0, ceiling / np.maximum(envelope, 1e-12))
    if needed.min() >= 1.0:
        return audio
    w = max(3, int(window_s * sample_rate))
    gain = uniform_filter1d(minimum_filter1d(needed, size=2 * w + 1), size=w)
    return (audio * gain).astype(np.float32)
