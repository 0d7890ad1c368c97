"""Quantities said in words: units ("5 ms" "five milliseconds"), rates ("20 tokens/s" "tokens per
second"), negative numbers ("index -1" "minus one") and scientific notation ("1e-5"). Part of
`macaw.script.spoken.to_spoken`; each pattern works on written text before its numbers are said."""

from __future__ import annotations

import re

from num2words import num2words

NEGATIVE = re.compile(r"(?:(\S+)\s+|(?<=[(\[=:,])|^)[-−](?=\d)")
UNITS = {
    "ms": "millisecond", "µs": "microsecond", "ns": "nanosecond", "s": "second", "sec": "second", "min": "minute",
    "h": "hour", "hr": "hour", "KB": "kilobyte", "MB": "megabyte", "GB": "gigabyte", "TB": "terabyte",
    "kb": "kilobyte", "mb": "megabyte", "gb": "gigabyte", "hrs": "hour", "mins": "minute", "secs": "second",
    "Hz": "hertz", "kHz": "kilohertz", "MHz": "megahertz", "GHz": "gigahertz", "dB": "decibel",
    "km": "kilometre", "cm": "centimetre", "mm": "millimetre", "kg": "kilogram", "mg": "milligram",
    "W": "watt", "kW": "kilowatt", "V": "volt", "°C": "degrees Celsius", "°F": "degrees Fahrenheit",
}
SPACED_UNITS = ("s", "h", "W", "V", "min", "sec", "hr")  # "1990s" is a decade, "5 s" five seconds
UNIT = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?)(?:\s?(" + "|".join(sorted((re.escape(u) for u in UNITS if u not in SPACED_UNITS), key=len, reverse=True))
    + r")|\s(" + "|".join(SPACED_UNITS) + r"))(?![\w°])"
)
SCIENTIFIC = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)[eE]([-+]?)(\d+)(?![\w.])")


def unit(m: re.Match[str]) -> str:
    word = UNITS[m.group(2) or m.group(3)]
    plural = m.group(1) != "1" and not word.startswith("degrees") and not word.endswith("hertz")
    return f"{m.group(1)} {word}{'s' if plural else ''}"


# "41.4 TFlops/GPU", "20 tokens/s": a rate, said "per"; only over what a rate is counted in, so
# "3 train/test splits" keeps its slash.
PER_WHAT = {"s": "second", "sec": "second", "second": "second", "ms": "millisecond", "min": "minute", "minute": "minute",
            "h": "hour", "hr": "hour", "hour": "hour", "day": "day", "week": "week", "year": "year", "epoch": "epoch",
            "step": "step", "iteration": "iteration", "iter": "iteration", "GPU": "G P U", "TPU": "T P U", "CPU": "C P U",
            "chip": "chip", "core": "core", "node": "node", "device": "device", "token": "token", "sample": "sample",
            "image": "image", "example": "example", "query": "query", "user": "user", "word": "word", "batch": "batch"}
PER = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)*\s?[A-Za-z]{1,12})/(" + "|".join(sorted(PER_WHAT, key=len, reverse=True)) + r")(?![\w/])")


FLAG_TAKERS = {"kill", "pkill", "head", "tail", "nice", "renice", "log", "ulimit", "grep", "xargs"}  # "kill -9": a flag


def negative(m: re.Match[str]) -> str:
    before = m.group(1) or ""
    if re.search(r"[A-Z]", before):
        return before + "-"  # "ZeRO -100B": the name's dash
    if re.search(r"\d", before) or before.lower() in FLAG_TAKERS:
        return m.group(0)
    return (before + " " if before else "") + "minus "


def per(m: re.Match[str]) -> str:
    return f"{m.group(1)} per {PER_WHAT[m.group(2)]}"


def scientific(m: re.Match[str]) -> str:
    mantissa, sign, exponent = m.group(1), m.group(2), m.group(3)
    power = f"ten to the {'minus ' if sign == '-' else ''}{num2words(int(exponent))}"
    return power if mantissa == "1" else f"{mantissa} times {power}"
