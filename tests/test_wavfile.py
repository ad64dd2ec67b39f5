"""Recorded takes: exact samples, a valid file at every sync, crash repair, RF64, a full disk."""
from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path
from struct import unpack_from

import numpy as np
import pytest
import soundfile as sf

from appliance.audio.record.wavfile import TakeFile, repair

RATE = 48000
PCM_HEADER = 80     # RIFF 12 + JUNK 36 + fmt 24 + data 8


def signal(frames: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Distinct float32 samples, some beyond full scale."""
    x = np.random.default_rng(seed).uniform(-1.2, 1.2, (frames, channels)).astype(np.float32)
    return x[:, 0] if channels == 1 else x


def as_int32(x: np.ndarray) -> np.ndarray:
    """The 24-bit values, as soundfile returns them (value << 8), computed in float64."""
    ints = np.clip(np.round(x.astype(np.float64) * 2**23), -2**23, 2**23 - 1).astype(np.int64)
    return (ints << 8).astype(np.int32)


def read_int(path: Path) -> np.ndarray:
    return sf.read(path, dtype="int32", always_2d=False)[0]


def read_float(x: np.ndarray) -> np.ndarray:
    """What soundfile returns as float32 for x written as PCM_24."""
    return (as_int32(x) >> 8).astype(np.float32) / 2**23


def test_pcm24_mono_round_trip_clips_and_rounds(tmp_path: Path) -> None:
    known = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0, 1 - 2**-23, 2**-24, 3 * 2**-24, -2**-23],
                     dtype=np.float32)
    ramp = np.linspace(-1.5, 1.5, 3001, dtype=np.float32)
    take = TakeFile(tmp_path / "in1.wav", rate=RATE)
    take.write(known)
    take.write(ramp)
    take.close()
    take.close()
    assert take.frames == len(known) + len(ramp)
    got = read_int(take.path)
    assert got[:len(known)].tolist() == [0, 1 << 30, -(1 << 30), 0x7FFFFF00, -2**31, 0x7FFFFF00,
                                         -2**31, 0x7FFFFF00, 0, 2 << 8, -1 << 8]
    assert np.array_equal(got[len(known):], as_int32(ramp))
    raw = take.path.read_bytes()
    assert raw[PCM_HEADER + 3:PCM_HEADER + 6] == b"\x00\x00\x40"   # 0.5: 3 bytes, little endian
    assert len(raw) == PCM_HEADER + 3 * take.frames
    info = sf.info(take.path)
    assert (info.format, info.subtype, info.samplerate, info.channels, info.frames) == \
        ("WAV", "PCM_24", RATE, 1, take.frames)


def test_a_new_take_is_a_valid_empty_wav(tmp_path: Path) -> None:
    take = TakeFile(tmp_path / "in1.wav", rate=44100)
    raw = take.path.read_bytes()
    assert [raw[i:i + 4] for i in (0, 8, 12, 48, 72)] == [b"RIFF", b"WAVE", b"JUNK", b"fmt ", b"data"]
    assert unpack_from("<I", raw, 4)[0] == PCM_HEADER - 8 and unpack_from("<I", raw, 76)[0] == 0
    assert sf.info(take.path).frames == 0
    take.close()


@pytest.mark.parametrize("channels", [1, 2])
def test_float_round_trip_is_exact(tmp_path: Path, channels: int) -> None:
    x = signal(5000, channels)
    take = TakeFile(tmp_path / "in.wav", rate=RATE, channels=channels, subtype="FLOAT")
    take.write(x[:1234])
    take.write(x[1234:])
    take.close()
    got, rate = sf.read(take.path, dtype="float32", always_2d=False)
    assert rate == RATE and np.array_equal(got, x)
    info = sf.info(take.path)
    assert (info.subtype, info.channels, info.frames) == ("FLOAT", channels, 5000)
    raw = take.path.read_bytes()
    fact = raw.index(b"fact")
    assert unpack_from("<I", raw, fact + 8)[0] == 5000


def test_a_block_of_the_wrong_width_is_refused(tmp_path: Path) -> None:
    take = TakeFile(tmp_path / "in.wav", rate=RATE, channels=2)
    with pytest.raises(ValueError, match="1 channels"):
        take.write(signal(10))
    take.close()
    assert take.frames == 0


@pytest.mark.parametrize("subtype", ["PCM_24", "FLOAT"])
def test_the_file_on_disk_is_valid_at_every_sync(tmp_path: Path, subtype: str) -> None:
    x = signal(RATE * 3 // 2)
    take = TakeFile(tmp_path / "in1.wav", rate=RATE, subtype=subtype)
    take.write(x[:RATE])
    take.sync()
    take.write(x[RATE:])
    on_disk = tmp_path / "as-is.wav"
    shutil.copyfile(take.path, on_disk)
    got = sf.read(on_disk, dtype="float32")[0]
    assert len(got) >= RATE
    assert np.array_equal(got, x[:len(got)] if subtype == "FLOAT" else read_float(x[:len(got)]))
    take.close()


def test_repair_recovers_every_frame_of_a_crash(tmp_path: Path) -> None:
    x = signal(RATE * 2)
    take = TakeFile(tmp_path / "in1.wav", rate=RATE)
    take.write(x[:RATE])
    take.sync()
    take.write(x[RATE:])
    crash = tmp_path / "crash.wav"
    shutil.copyfile(take.path, crash)   # the file as kill -9 leaves it: sizes of the last sync
    take.close()
    assert sf.info(crash).frames == RATE
    assert repair(crash) == 2 * RATE
    assert np.array_equal(read_int(crash), as_int32(x))
    with crash.open("ab") as f:
        f.write(b"\x01\x02")            # half a frame reached the disk
    assert repair(crash) == 2 * RATE
    assert crash.stat().st_size == PCM_HEADER + 3 * 2 * RATE
    assert np.array_equal(read_int(crash), as_int32(x))


def test_repair_of_a_header_ahead_of_its_data(tmp_path: Path) -> None:
    x = signal(1000)
    take = TakeFile(tmp_path / "in1.wav", rate=RATE)
    take.write(x)
    take.close()
    os.truncate(take.path, PCM_HEADER + 3 * 600 + 1)   # the last pages never reached the disk
    assert repair(take.path) == 600
    assert unpack_from("<I", take.path.read_bytes(), 76)[0] == 3 * 600
    assert np.array_equal(read_int(take.path), as_int32(x[:600]))


def ds64(raw: bytes) -> tuple[int, int, int, int]:
    """riff size, data size, sample count, table length."""
    assert raw[12:16] == b"ds64" and unpack_from("<I", raw, 16)[0] == 28
    return unpack_from("<QQQI", raw, 20)


@pytest.mark.parametrize("subtype,width", [("PCM_24", 3), ("FLOAT", 4)])
def test_past_rf64_at_the_file_becomes_rf64(tmp_path: Path, subtype: str, width: int) -> None:
    x = signal(2000, 2)
    take = TakeFile(tmp_path / "in.wav", rate=RATE, channels=2, subtype=subtype, rf64_at=3000)
    take.write(x[:250])                     # 250 frames * 2 channels * width: below 3000 bytes
    take.sync()
    raw = take.path.read_bytes()
    assert raw[:4] == b"RIFF" and raw[12:16] == b"JUNK"
    take.write(x[250:])
    take.close()
    raw = take.path.read_bytes()
    data_len = 2000 * 2 * width
    assert raw[:4] == b"RF64" and unpack_from("<I", raw, 4)[0] == 0xFFFFFFFF
    assert ds64(raw) == (len(raw) - 8, data_len, 2000, 0)
    data = raw.index(b"data")
    assert unpack_from("<I", raw, data + 4)[0] == 0xFFFFFFFF and len(raw) == data + 8 + data_len
    info = sf.info(take.path)
    assert (info.format, info.subtype, info.frames) == ("RF64", subtype, 2000)
    got = sf.read(take.path, dtype="float32")[0]
    assert np.array_equal(got, x if subtype == "FLOAT" else read_float(x))


def test_repair_turns_a_crash_past_rf64_at_into_rf64(tmp_path: Path) -> None:
    x = signal(2000)
    take = TakeFile(tmp_path / "in1.wav", rate=RATE, rf64_at=3000)
    take.write(x[:800])                     # 2400 bytes: still RIFF at this sync
    take.sync()
    take.write(x[800:])
    crash = tmp_path / "crash.wav"
    shutil.copyfile(take.path, crash)
    take.close()
    assert crash.read_bytes()[:4] == b"RIFF"
    assert repair(crash, rf64_at=3000) == 2000
    raw = crash.read_bytes()
    assert raw[:4] == b"RF64" and ds64(raw) == (len(raw) - 8, 6000, 2000, 0)
    assert sf.info(crash).format == "RF64"
    assert np.array_equal(read_int(crash), as_int32(x))
    assert repair(crash, rf64_at=3000) == 2000      # twice changes nothing
    assert crash.read_bytes() == raw


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A 256 KiB tmpfs: a disk that fills up. CI runs the tests as root, so no skip."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if done.returncode:
        pytest.fail(f"cannot mount a tmpfs for the disk-full test (run as root): {done.stderr}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "--lazy", str(mnt)], check=True)   # even with a take left open


def test_a_full_disk_leaves_every_whole_frame_that_reached_it(tiny_disk: Path) -> None:
    x = signal(RATE * 2)                    # 288 KB of PCM_24: more than the disk holds
    block, accepted = 4800, 0
    take = TakeFile(tiny_disk / "in1.wav", rate=RATE)
    with pytest.raises(OSError) as full:
        for start in range(0, len(x), block):
            take.write(x[start:start + block])
            accepted = start + block
    assert full.value.errno == errno.ENOSPC
    assert take.frames > accepted           # the part of the failed block that fit was kept
    take.close()
    size = take.path.stat().st_size
    assert size == PCM_HEADER + 3 * take.frames and size > 256 * 1024 - 4096
    assert sf.info(take.path).frames == take.frames
    assert np.array_equal(read_int(take.path), as_int32(x[:take.frames]))


def test_repair_refuses_what_is_not_a_take(tmp_path: Path) -> None:
    notes = tmp_path / "notes.wav"
    notes.write_bytes(b"setlist for friday\n" * 10)
    with pytest.raises(ValueError, match="notes.wav"):
        repair(notes)
    other = tmp_path / "other.wav"          # a real WAV, but not laid out as a take
    sf.write(other, signal(100), RATE, subtype="PCM_24")
    with pytest.raises(ValueError, match="other.wav"):
        repair(other)


def test_a_take_never_overwrites_a_file(tmp_path: Path) -> None:
    path = tmp_path / "in1.wav"
    path.write_bytes(b"an earlier take")
    with pytest.raises(FileExistsError):
        TakeFile(path, rate=RATE)
    assert path.read_bytes() == b"an earlier take"


def test_a_bad_subtype_names_the_allowed_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="PCM_24, FLOAT"):
        TakeFile(tmp_path / "in1.wav", rate=RATE, subtype="PCM_16")
    assert not (tmp_path / "in1.wav").exists()
