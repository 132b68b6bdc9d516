"""Atomic outputs: a file appears complete or not at all.

Every file mujun writes is first written under a temporary name in the *same
directory* as the target (so the final move is a rename on one file system),
flushed to disk with ``fsync``, and only then moved over the target with
:func:`os.replace`. When the writer fails, the temporary output is removed and
the target is untouched. An existing target is never replaced unless the caller
asks for it (the CLI's ``--overwrite``).

Some formats are *sets* of files sharing a base name: a Shapefile is
``.shp`` + ``.shx`` + ``.dbf`` + ``.prj`` + ``.cpg`` (and optional indexes).
For those the temporary path has the same suffix, the writer creates its
sidecars beside it, and every member is moved to the target's base name; the
``.shp`` itself moves last, so a reader that sees it also sees the rest.
Stale sidecars of a replaced Shapefile (e.g. an old ``.cpg``) are removed.
Other writers name their sidecars explicitly (``sidecars=(".prj",)`` for a
CSV with its CRS). Directory outputs (a map's ``OUT_files`` folder) are moved as a
whole and carry a mark file (:data:`FOLDER_MARK`); a folder is replaced only when it
carries that mark or when the new output was built from a copy of it
(``start_from_existing``, e.g. one layer of a FileGDB replaced, the others kept).
Any other folder in the way is never removed: the output is refused with
:class:`~gis.errors.OutputError`.

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> with atomic_output(d / "a.txt") as tmp:
...     _ = tmp.write_text("done")
>>> (d / "a.txt").read_text()
'done'
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from gis.errors import OutputError, OutputExistsError

log = logging.getLogger(__name__)

#: Suffixes that make up one Shapefile "file" (lower case; matching is case-insensitive).
SHAPEFILE_SIDECARS: tuple[str, ...] = (
    ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".qpj", ".shp.xml",
)

#: File inside every folder output mujun writes: only such folders are ever replaced.
FOLDER_MARK = ".mujun-output"

#: Target suffix -> suffixes of the files written beside it.
SIDECAR_SETS: dict[str, tuple[str, ...]] = {".shp": SHAPEFILE_SIDECARS}


def _base(path: Path) -> str:
    """The path without its main suffix (``/d/a.shp`` -> ``/d/a``)."""
    return str(path)[: -len(path.suffix)] if path.suffix else str(path)


def output_members(
    path: str | os.PathLike[str], sidecars: tuple[str, ...] | None = None
) -> list[Path]:
    """Every file that belongs to the output ``path`` (itself first, then sidecars).

    Parameters
    ----------
    path : path-like
        Target path.
    sidecars : tuple of str, optional
        Suffixes of the files written beside it; default from :data:`SIDECAR_SETS`.

    Returns
    -------
    list of Path
        ``[path]`` for single files; ``[a.shp, a.shx, a.dbf, ...]`` for a Shapefile.
    """
    path = Path(path)
    if sidecars is None:
        sidecars = SIDECAR_SETS.get(path.suffix.lower(), ())
    base = _base(path)
    return [path, *(Path(base + ext) for ext in sidecars)]


def existing_members(
    path: str | os.PathLike[str], sidecars: tuple[str, ...] | None = None
) -> list[Path]:
    """The members of ``path`` (see :func:`output_members`) that exist on disk.

    Sidecars are matched case-insensitively (``A.SHX`` belongs to ``A.shp``).
    """
    path = Path(path)
    members = output_members(path, sidecars)
    if len(members) == 1:
        return [path] if os.path.lexists(path) else []
    wanted = {m.name.lower() for m in members}
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        return []
    found = [parent / name for name in os.listdir(parent) if name.lower() in wanted]
    # target first, the rest in a stable order
    return sorted(found, key=lambda p: (p.name.lower() != path.name.lower(), p.name))


def _fsync_path(path: Path) -> None:
    if path.is_dir():
        for child in path.rglob("*"):
            if child.is_file():
                _fsync_file(child)
        _fsync_dir(path)
    elif path.is_file():
        _fsync_file(path)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can fsync a directory
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def _temp_path(target: Path) -> Path:
    """A fresh name beside ``target`` that keeps its suffix (drivers pick formats by suffix).

    The name carries the writing process's id, so a later run can tell the
    leftovers of a killed writer (``kill -9`` leaves no chance to clean up)
    from the temporary files of a writer still at work.
    """
    token = uuid.uuid4().hex[:10]
    stem = target.name[: -len(target.suffix)] if target.suffix else target.name
    return target.with_name(f".{stem}.tmp-{os.getpid()}-{token}{target.suffix}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def remove_stale_temporaries(target: str | os.PathLike[str]) -> list[Path]:
    """Delete temporary files of ``target`` left by writers that died; return what was removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / ".out.tmp-999999999-abc.gpkg").write_text("half")
    >>> [p.name for p in remove_stale_temporaries(d / "out.gpkg")]
    ['.out.tmp-999999999-abc.gpkg']
    """
    target = Path(target)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        return []
    stem = target.name[: -len(target.suffix)] if target.suffix else target.name
    prefix = f".{stem}.tmp-"
    removed = []
    try:
        names = os.listdir(parent)
    except OSError:
        return []
    for name in names:
        if not name.startswith(prefix):
            continue
        pid = name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            path = parent / name
            with contextlib.suppress(OSError):
                _remove(path)
                removed.append(path)
    if removed:
        log.info("removed %d temporary file(s) of an interrupted write of %s", len(removed),
                 target)
    return removed


_UNWRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.ENOTDIR,
               errno.ENOENT, errno.EDQUOT, errno.EISDIR}


def _output_error(target: Path, exc: OSError) -> OutputError:
    why = exc.strerror or str(exc)
    blocker = next((p for p in target.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        why = f"{blocker} 是文件，不是文件夹"
    hint = ("磁盘已满" if exc.errno in (errno.ENOSPC, errno.EDQUOT)
            else "请选择有写入权限的文件夹")
    return OutputError(f"{target}：无法写出（{why}）；{hint}")


def _raise_exists(target: Path, found: list[Path]) -> None:
    names = "、".join(p.name for p in found)
    raise OutputExistsError(f"{target}：输出已存在（{names}）；加 --overwrite 才会替换")


def is_own_folder(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder mujun wrote (it holds :data:`FOLDER_MARK`)."""
    path = Path(path)
    return path.is_dir() and not path.is_symlink() and (path / FOLDER_MARK).is_file()


def check_replaceable(
    path: str | os.PathLike[str], sidecars: tuple[str, ...] | None = None, *,
    from_copy: bool = False,
) -> None:
    """Refuse when a folder that mujun may not remove is where an output goes.

    A folder at ``path`` may be replaced when mujun wrote it (:func:`is_own_folder`)
    or when ``from_copy`` (the new output starts as a copy of it); a folder where a
    sidecar goes never.

    Raises
    ------
    OutputError
        Naming the folder and what to do.
    """
    path = Path(path)
    for member in existing_members(path, sidecars):
        if not member.is_dir() or member.is_symlink():
            continue
        if member == path and (from_copy or is_own_folder(member)):
            continue
        raise OutputError(
            f"{member} is a folder mujun did not write; it is never removed: choose "
            "another output name or move the folder away")


@contextlib.contextmanager
def atomic_output(
    path: str | os.PathLike[str],
    overwrite: bool = False,
    *,
    start_from_existing: bool = False,
    sidecars: tuple[str, ...] | None = None,
    folder_mark: bool = True,
) -> Iterator[Path]:
    """Write an output under a temporary name and move it into place on success.

    Parameters
    ----------
    path : path-like
        The final output path. Its parent directory is created if needed.
    overwrite : bool, default False
        Replace an existing target. Without it an existing target (or any
        member of its sidecar set) raises :class:`~gis.errors.OutputExistsError`
        before anything is written.
    start_from_existing : bool, default False
        Copy the existing target to the temporary path first, so the writer can
        modify it (e.g. add a layer to a GeoPackage) without touching the
        original until success. Implies that an existing target may be replaced.
    sidecars : tuple of str, optional
        Suffixes of files the writer creates beside the temporary path (e.g.
        ``(".prj",)``); they move and count as existing with the target.
        Default: :data:`SIDECAR_SETS` for the suffix (Shapefile), else none.
    folder_mark : bool, default True
        Put :data:`FOLDER_MARK` into a folder output, so that a later ``--overwrite``
        may replace it (off for formats that are folders with a catalogue of their
        own, such as a FileGDB, which the caller recognises).

    Yields
    ------
    Path
        Temporary path in the target's directory, with the target's suffix.
        Nothing exists there yet (unless ``start_from_existing``).

    Raises
    ------
    OutputExistsError
        The target exists and ``overwrite`` is false.
    OutputError
        The folder cannot be written (read-only, missing, not a folder, disk
        full), or a folder mujun did not write is in the way: one line naming
        the output, not a traceback.

    Notes
    -----
    On any exception inside the block every temporary file is removed and the
    exception propagates; the target is left as it was. Sidecar sets are moved
    member by member (the main file last); each move is atomic, the set as a
    whole is not.
    """
    target = Path(path)
    check_replaceable(target, sidecars, from_copy=start_from_existing)
    found = existing_members(target, sidecars)
    if found and not (overwrite or start_from_existing):
        _raise_exists(target, found)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _output_error(target, exc) from exc
    remove_stale_temporaries(target)
    tmp = _temp_path(target)
    if start_from_existing and target.exists():
        if target.is_dir():
            shutil.copytree(target, tmp)
        else:
            shutil.copy2(target, tmp)
    try:
        yield tmp
        produced = existing_members(tmp, sidecars)
        if not produced:
            raise FileNotFoundError(f"{target}: the writer produced no output at {tmp}")
        if tmp.is_dir() and not start_from_existing and folder_mark:
            (tmp / FOLDER_MARK).write_text("written by mujun; replaced by --overwrite\n",
                                           encoding="utf-8")
        for member in produced:
            _fsync_path(member)
        if not overwrite and not start_from_existing:
            late = existing_members(target, sidecars)
            if late:  # appeared while we were writing
                _raise_exists(target, late)
        _commit(tmp, target, produced, sidecars)
    except BaseException as exc:
        for member in existing_members(tmp, sidecars):
            with contextlib.suppress(OSError):
                _remove(member)
        with contextlib.suppress(OSError):
            _remove(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, OutputError) and \
                exc.errno in _UNWRITABLE and _concerns(exc, target, tmp):
            raise _output_error(target, exc) from exc
        raise
    _fsync_dir(target.parent)
    log.debug("wrote %s", target)


def _concerns(exc: OSError, target: Path, tmp: Path) -> bool:
    """True when the OS error is about the output's folder (not an input read inside the block)."""
    names = [f for f in (exc.filename, getattr(exc, "filename2", None)) if f]
    if not names:
        return True  # writers such as openpyxl do not always say which file
    folder = str(target.parent.resolve()) if str(target.parent) else os.getcwd()
    return any(str(Path(str(n)).resolve()).startswith(folder) for n in names)


def _commit(
    tmp: Path, target: Path, produced: list[Path], sidecars: tuple[str, ...] | None
) -> None:
    tmp_base, target_base = _base(tmp), _base(target)
    moves = []
    for member in produced:
        if member == tmp:
            dest = target
        else:
            suffix = str(member)[len(tmp_base):]
            dest = Path(target_base + suffix.lower())
        moves.append((member, dest))
    # stale members of the old set that the new output does not replace
    dest_names = {dest.name for _, dest in moves}
    for old in existing_members(target, sidecars):
        if old.name not in dest_names:
            _remove(old)
    old_folder = None
    if target.is_dir() and not target.is_symlink():
        # os.replace cannot replace a non-empty folder: move it aside, then drop it
        # (check_replaceable allowed it: mujun's own folder, or the source of the copy)
        old_folder = _temp_path(target)
        os.replace(target, old_folder)
    # main file last: a reader that sees it sees the complete set
    moves.sort(key=lambda m: m[0] == tmp)
    try:
        for src, dest in moves:
            os.replace(src, dest)
    except BaseException:
        if old_folder is not None and not target.exists():
            os.replace(old_folder, target)
        raise
    if old_folder is not None:
        _remove(old_folder)
