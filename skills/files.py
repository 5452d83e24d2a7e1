"""Writing a file a person named (an export, a bundle, a GIF) without destroying anything.

Every command that writes to a path given on its command line goes through `safe_write`,
which holds one rule:

- an existing target is refused unless `force` (a dangling symlink counts as existing);
- a target that is not a regular file is refused even with `force`: a directory, a
  device, a FIFO or socket, or a symlink to one of them (with `force`, a symlink to a
  regular file is replaced by the new file; the file it pointed to is left alone);
- nothing is written inside a data home: the command's own home, or any directory
  holding a data home's files (`skillgrove.db`, `library.lock`, the policy's
  `corrections.sqlite` or `checkpoints/`), whatever the name or `force`;
- missing parent directories are created (and removed again if the write fails);
- the data goes to a new temporary file beside the target, is flushed to disk, and only
  then renamed over the target (`os.replace`), so the target is the old file or the
  whole new one, never half of either; on any error the temporary file is removed and
  the target is untouched. Without `force` the rename is a hard link, so a file that
  appears at the target meanwhile is still not overwritten.

Errors are `SkillError` with one line. (Written here rather than taken from a library:
`atomicwrites` is unmaintained and none of the others refuse devices or data homes.)
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from skills.errors import SkillError

# what makes a directory a data home (relative to it)
HOME_MARKERS = ("skillgrove.db", "library.lock", "policy/corrections.sqlite", "policy/checkpoints")


def check_target(path: str | Path, *, force: bool = False, home: str | Path | None = None) -> Path:
    """Check that `path` may be written (see the module's rule); returns it as a Path.

    Args:
        path: the file a person named.
        force: allow replacing an existing regular file.
        home: the data home of the command (never written into, even if still empty).

    Raises:
        SkillError: the target is refused, with one line saying why.
    """
    raw = os.fspath(path)
    if not raw.strip():
        raise SkillError("no file name given: name the file to write")
    if raw.endswith(("/", os.sep)):
        raise SkillError(f"{raw!r} names a directory: name a file to write")
    target = Path(raw).expanduser()
    existing = next(d for d in (target.parent, *target.parent.parents) if os.path.lexists(d))
    if not existing.is_dir():
        raise SkillError(f"cannot write {raw!r}: {str(existing)!r} is not a directory")
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise SkillError(f"cannot write {raw!r}: {exc.strerror or exc}") from None
    if st is not None:
        kind = _kind(target, st)
        if kind != "file":
            raise SkillError(f"refusing to write {raw!r}: it is {kind}, not a regular file")
        if not force:
            raise SkillError(f"{raw!r} exists: pass --force to replace it")
    for real in _real_paths(target):
        inside = _data_home_of(real, home)
        if inside is not None:
            raise SkillError(
                f"refusing to write {raw!r}: it is inside the data home {str(inside)!r}; "
                "write it outside the data home"
            )
    return target


@contextlib.contextmanager
def safe_write(
    path: str | Path, *, force: bool = False, home: str | Path | None = None
) -> Iterator[Path]:
    """Check `path` (see `check_target`), then yield a temporary path beside it to write.

    When the `with` block ends without an error, the temporary file is flushed to disk
    and renamed to `path`; on an error it is removed and `path` is left as it was. The
    temporary name keeps the target's suffix, so writers that pick a format from it
    (PIL) work.

    Example:
        with safe_write(out, force=force, home=app.home) as tmp:
            zip_up(tmp)
    """
    target = check_target(path, force=force, home=home)
    made = _make_parents(target.parent)
    tmp = None
    try:
        tmp = _new_temp(target)
        yield tmp
        _sync(tmp)
        _commit(tmp, target, force)
    except BaseException as exc:
        _remove(tmp, made)
        if isinstance(exc, OSError):
            raise SkillError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
        raise


def write_bytes(
    path: str | Path, data: bytes, *, force: bool = False, home: str | Path | None = None
) -> Path:
    """Write `data` to `path` under the module's rule; returns the target."""
    with safe_write(path, force=force, home=home) as tmp:
        tmp.write_bytes(data)
    return Path(path).expanduser()


# -- internals ---------------------------------------------------------------------------
def _kind(target: Path, st: os.stat_result) -> str:
    """ "file" for a regular file (or a symlink to one), else what it is, in words."""
    if stat.S_ISLNK(st.st_mode):
        try:
            st = os.stat(target)
        except OSError:
            return "file"  # a dangling link: replaced (with force) like a file
        what = _kind(target, st)
        return what if what == "file" else f"a symlink to {what}"
    if stat.S_ISREG(st.st_mode):
        return "file"
    if stat.S_ISDIR(st.st_mode):
        return "a directory"
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        return "a device"
    if stat.S_ISFIFO(st.st_mode):
        return "a pipe"
    if stat.S_ISSOCK(st.st_mode):
        return "a socket"
    return "not a file"


def _real_paths(target: Path) -> list[Path]:
    """Where a write to `target` lands (its directory resolved), and what it links to."""
    out = [target.parent.resolve() / target.name]
    if target.is_symlink():
        with contextlib.suppress(OSError, RuntimeError):
            out.append(target.resolve())
    return out


def _data_home_of(real: Path, home: str | Path | None) -> Path | None:
    """The data home `real` lies in (the given one, or a directory that is one), else None."""
    if home is not None:
        root = Path(home).expanduser().resolve()
        if real == root or real.is_relative_to(root):
            return root
    for d in real.parents:
        if any((d / m).exists() for m in HOME_MARKERS):
            return d
    return None


def _make_parents(directory: Path) -> list[Path]:
    """Create `directory` and its missing parents; returns those created, outermost first."""
    missing = [d for d in (directory, *directory.parents) if not os.path.lexists(d)][::-1]
    for d in missing:
        try:
            d.mkdir()
        except OSError as exc:
            _remove(None, missing[: missing.index(d)])
            raise SkillError(
                f"cannot create the directory {str(d)!r}: {exc.strerror or exc}"
            ) from None
    return missing


def _new_temp(target: Path) -> Path:
    """A new empty file beside `target` (mode 0666 less the umask, like any new file)."""
    suffix = "".join(target.suffixes[-1:])
    for _ in range(100):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp{suffix}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise SkillError(f"cannot write {str(target)!r}: {exc.strerror or exc}") from None
        os.close(fd)
        return tmp
    raise SkillError(f"cannot write {str(target)!r}: no free temporary name beside it")


def _sync(tmp: Path) -> None:
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _commit(tmp: Path, target: Path, force: bool) -> None:
    """Move `tmp` to `target`: replace with `force`, else only if `target` is still absent."""
    if force:
        os.replace(tmp, target)
    else:
        try:
            os.link(tmp, target, follow_symlinks=False)
        except FileExistsError:
            raise SkillError(f"{str(target)!r} exists: pass --force to replace it") from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            if os.path.lexists(target):  # a file system without hard links
                raise SkillError(f"{str(target)!r} exists: pass --force to replace it") from None
            os.replace(tmp, target)
        else:
            os.unlink(tmp)
    with contextlib.suppress(OSError):  # make the rename durable
        fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove(tmp: Path | None, made: Sequence[Path] = ()) -> None:
    """Remove the temporary file and the directories made for it (innermost first)."""
    if tmp is not None:
        with contextlib.suppress(OSError):
            tmp.unlink()
    for d in reversed(made):
        with contextlib.suppress(OSError):
            d.rmdir()
