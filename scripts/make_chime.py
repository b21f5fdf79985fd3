"""Write the call board's chime (a two-tone "ping-pong") to static/sounds/chime.wav.

    python scripts/make_chime.py

Synthesised here, so the sound has no licence but ours: two bell-like tones (E5 then C5),
each a few harmonics with an exponential decay, 22.05 kHz mono 16-bit, about 1.4 s.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 22050
TARGET = Path(__file__).resolve().parent.parent / "static" / "sounds" / "chime.wav"
# (start in seconds, frequency in Hz): ping, then pong
NOTES = [(0.0, 659.25), (0.45, 523.25)]
LENGTH = 1.4
HARMONICS = [(1.0, 1.0), (2.0, 0.35), (3.0, 0.12)]  # (multiple, relative amplitude)


def sample(t: float) -> float:
    """The chime's amplitude at time t (seconds), in [-1, 1]."""
    value = 0.0
    for start, frequency in NOTES:
        if t < start:
            continue
        local = t - start
        attack = min(1.0, local / 0.005)  # 5 ms attack avoids a click
        envelope = attack * math.exp(-local * 3.2)
        for multiple, amplitude in HARMONICS:
            value += envelope * amplitude * math.sin(2 * math.pi * frequency * multiple * local)
    return value * 0.32


def main() -> None:
    """Synthesise and write the file."""
    frames = bytearray()
    for index in range(int(RATE * LENGTH)):
        t = index / RATE
        fade = min(1.0, (LENGTH - t) / 0.05)  # fade out the tail
        frames += struct.pack("<h", int(max(-1.0, min(1.0, sample(t) * fade)) * 32767))
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(TARGET), "wb") as output:
        output.setnchannels(1)
        output.setsampwidth(2)
        output.setframerate(RATE)
        output.writeframes(bytes(frames))
    print(f"wrote {TARGET} ({TARGET.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
