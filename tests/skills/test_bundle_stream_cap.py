"""Issue 19, finding 13: a bundle member that declares 99 bytes but holds a huge stream is
read with a cap: refused in one line without inflating the stream into memory."""

from __future__ import annotations

import struct
import tracemalloc
import zipfile

import pytest

from skills.bundle import export_bundle, import_bundle
from skills.embed import HashEmbedder
from skills.errors import SkillError
from skills.index import MemoryIndex
from skills.library import SkillLibrary

CODE = 'def nudge(robot, obj):\n    """Nudge an object."""\n    robot.find(obj)\n'
STREAM = 48 * 1024 * 1024  # what the member really holds (inflated)


def _lie_about_size(path, member: str, declared: int) -> None:
    """Rewrite `member`'s uncompressed size in its local and central headers."""
    b = bytearray(path.read_bytes())
    name = member.encode()
    for sig, size_at, name_len_at, name_at in (
        (b"PK\x03\x04", 22, 26, 30),
        (b"PK\x01\x02", 24, 28, 46),
    ):
        i = b.find(sig)
        while i >= 0:
            n = struct.unpack_from("<H", b, i + name_len_at)[0]
            if bytes(b[i + name_at : i + name_at + n]) == name:
                struct.pack_into("<I", b, i + size_at, declared)
            i = b.find(sig, i + 4)
    path.write_bytes(bytes(b))


def test_a_member_bigger_than_it_declares_is_refused_without_reading_it_all(tmp_path):
    src = SkillLibrary(tmp_path / "a", HashEmbedder(), MemoryIndex(), install_seeds=False)
    src.add("nudge", CODE, author="human")
    export_bundle(src, tmp_path / "lib.zip")
    src.close()
    with zipfile.ZipFile(tmp_path / "lib.zip") as z:
        members = {n: z.read(n) for n in z.namelist()}
    code = next(n for n in members if n.startswith("code/"))
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in members.items():
            z.writestr(n, b"#" * STREAM if n == code else data)
    _lie_about_size(tmp_path / "bomb.zip", code, 99)
    with zipfile.ZipFile(tmp_path / "bomb.zip") as z:
        assert z.getinfo(code).file_size == 99  # the lie is in place
    dest = SkillLibrary(tmp_path / "b", HashEmbedder(), MemoryIndex(), install_seeds=False)
    tracemalloc.start()
    try:
        with pytest.raises(SkillError) as err:
            import_bundle(dest, tmp_path / "bomb.zip")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "\n" not in str(err.value) and "bomb.zip" in str(err.value)
    assert peak < STREAM // 8, f"{peak / 2**20:.0f} MiB held while refusing the member"
    assert dest.store.names() == []
    dest.close()
