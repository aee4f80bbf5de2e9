"""Saving and loading state dicts as ``.npz`` files, safely.

`save` writes each array of a state dict (``model.state_dict()``, ``optimizer.state_dict()``)
as one ``.npy`` entry of a zip file, the format ``np.savez`` writes. `load` reads it back with
``allow_pickle=False``: a file from someone else can hold numbers only, never code to run.
Files are written to a temporary name and renamed, so a crash never leaves half a file.
Errors name the file and the entry. Depends on `errors`, `tensor`.
"""
from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from graphgrad.errors import GraphgradError, setting_text
from graphgrad.tensor import _data

PathLike = str | bytes | os.PathLike

__all__ = ["SaveFileError", "SaveTypeError", "StateDict", "load", "save"]


class SaveFileError(GraphgradError, OSError):
    """A file cannot be saved or loaded: missing, corrupt, pickled, or not a state dict."""


class SaveTypeError(SaveFileError, TypeError):
    """What `save` or `load` was given is of the wrong type: a path that is no file name, a
    state that is no dict of arrays. A `SaveFileError` and a ``TypeError``."""


class StateDict(dict):
    """A loaded state dict: a dict of arrays that remembers the file it came from, so
    ``load_state_dict`` can name the file when it does not fit the model."""

    source: str | None = None


def file_name(path: Any, caller: str, example: str = "model.npz",
              type_error: type[Exception] = SaveTypeError,
              value_error: type[Exception] = SaveFileError) -> str:
    """``path`` (a str, bytes or an os.PathLike such as pathlib.Path) as a str, checked before
    anything is read, drawn or written: a ``type_error`` naming ``caller`` for no file name at
    all (None, 5), which os.fsdecode refuses in its own words; a ``value_error`` for an empty
    path or a folder (one that exists, or a name ending with a slash, which pathlib would cut
    off), which would be called a missing file or named by a temporary file's path.
    ``example`` is the file name the message suggests."""
    try:
        text = os.fsdecode(path)
    except TypeError:
        raise type_error(f"{caller}: path must be a file name, a str or a pathlib.Path, got "
                         f"{setting_text(path)}") from None
    if not text:
        raise value_error(f"{caller}: path is empty; give a file name ({example!r})")
    if text.endswith(("/", os.sep)) or os.path.isdir(text):
        raise value_error(f"{caller}: {text!r} is a folder, not a file; give a file's name, "
                          f"such as {os.path.join(text, example)!r}")
    return text


def _as_array(key: str, value: Any) -> np.ndarray:
    if isinstance(value, Mapping):
        raise SaveTypeError(
            f"gg.save: {key!r} holds a dict; a file holds one state dict of arrays: save the "
            "model's and the optimizer's in two files (gg.save(model.state_dict(), "
            "'model.npz'); gg.save(optimizer.state_dict(), 'optimizer.npz'))"
        )
    if value is None:  # a buffer set to None: state_dict leaves it out, as PyTorch does
        raise SaveTypeError(f"gg.save: {key!r} holds None; only numbers, arrays and strings "
                            "can be saved: leave the key out")
    try:
        array = np.asarray(_data(value))
    except (TypeError, ValueError) as exc:  # a ragged list
        raise SaveTypeError(f"gg.save: {key!r} holds {_kind(value)} that cannot be "
                            f"made into an array ({str(exc).rstrip('.')}); give an array, or "
                            "nested lists of one length at each level") from None
    if array.dtype.kind not in "biufcU":
        raise SaveTypeError(
            f"gg.save: {key!r} holds {_kind(value)} of dtype {array.dtype}; only "
            "numbers, arrays and strings can be saved (never pickled objects)"
        )
    if array.dtype.kind == "U" and isinstance(value, (list, tuple)):
        # numpy makes every item of [1, "a"] a string: the 1 would come back as "1"
        other = next((item for item in np.array(value, dtype=object).flat
                      if not isinstance(item, str)), None)
        if other is not None:
            raise SaveTypeError(
                f"gg.save: {key!r} holds {_kind(value)} mixing strings with other "
                f"values ({other!r} is a {type(other).__name__}), which would come back as "
                "strings: save them under two keys, or make them strings first"
            )
    return array


def _kind(value: Any) -> str:
    """'a list', 'a value of type ndarray': no article to guess for a type's name."""
    name = type(value).__name__
    return f"a {name}" if name in ("list", "tuple") else f"a value of type {name}"


def save(state: Mapping[str, Any], path: PathLike) -> None:
    """Write a state dict (names -> arrays, numbers or strings) to ``path`` as ``.npz``.

    >>> gg.save(model.state_dict(), "model.npz")
    >>> gg.save(optimizer.state_dict(), "adam.npz")

    ``path`` is a str, bytes or an os.PathLike (a pathlib.Path); missing folders are not
    created.

    Raises:
        SaveTypeError: ``state`` is no dict (a model rather than its state dict), a key is no
            non-empty string without '/', a value cannot be an array of numbers or strings (a
            ragged list, an object, a list mixing strings and numbers), or ``path`` is no file
            name (None, 5).
        SaveFileError: ``path`` is empty or a folder, or the file cannot be written.
    """
    if hasattr(state, "state_dict") and not isinstance(state, Mapping):
        raise SaveTypeError("gg.save takes a state dict: gg.save(model.state_dict(), path)")
    if not isinstance(state, Mapping):
        swapped = (" (the state first, then the path: gg.save(model.state_dict(), path))"
                   if isinstance(path, Mapping) else "")
        raise SaveTypeError(f"gg.save takes a dict of arrays, got {type(state).__name__}"
                            f"{swapped}")
    arrays = {}
    for key, value in state.items():
        if not isinstance(key, str) or not key or "/" in key:
            raise SaveTypeError(f"gg.save: keys must be non-empty strings without '/', got "
                                f"{setting_text(key)}")
        arrays[key] = _as_array(key, value)
    path = file_name(path, "gg.save")

    def write(temporary: str) -> None:
        with open(temporary, "wb") as file, zipfile.ZipFile(file, "w") as archive:
            for key, array in arrays.items():
                with archive.open(key + ".npy", "w", force_zip64=True) as entry:
                    np.lib.format.write_array(entry, array, allow_pickle=False)

    try:
        write_whole(path, write)
    except FolderNotWritable as exc:
        raise SaveFileError(f"gg.save: cannot write {path!r}: {exc.strerror} "
                            f"({exc.filename!r}); create the folder first, or save somewhere "
                            "you can write") from None
    except OSError as exc:
        raise SaveFileError(f"gg.save: cannot write {path!r}: {exc}") from exc


class FolderNotWritable(OSError):
    """`write_whole` could not make a file in the folder of the path it was given."""


def write_whole(path: str | os.PathLike, write: Any) -> None:
    """Write a file by ``write(temporary)``, to a temporary path beside ``path`` that then
    replaces ``path``: a failure or an interrupt (Ctrl-C) partway leaves what was at ``path``
    before (an earlier checkpoint, picture or animation), never a truncated file. The new file
    gets the mode of the one it replaces, or the mode any new file gets.

    Raises:
        FolderNotWritable: the folder of ``path`` is missing or cannot be written.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    suffix = os.path.splitext(path)[1]  # writers that choose their format by the extension
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".graphgrad-", suffix=suffix)
    except OSError as exc:
        raise FolderNotWritable(exc.errno, exc.strerror, folder) from None
    os.close(handle)
    try:
        os.chmod(temporary, _mode_of(path))  # mkstemp makes the file private
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _mode_of(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _looks_pickled(path: str) -> bool:
    """Whether a file starts as a pickle does: protocol 2 and later begin with 0x80."""
    with open(path, "rb") as file:
        return file.read(1) == b"\x80"


def load(path: PathLike) -> StateDict:
    """Read a state dict written by `save` (or ``np.savez``), refusing pickled data.

    >>> model.load_state_dict(gg.load("model.npz"))

    Raises:
        SaveFileError: the file is missing, is not an ``.npz`` file (a pickle, say), is
            truncated or corrupt, or holds an entry that would need pickle to read; ``path``
            is empty or a folder (a `SaveTypeError` when it is no file name at all: None, 5).
    """
    path = file_name(path, "gg.load")
    if not os.path.isfile(path):
        raise SaveFileError(f"gg.load: no file {path!r}")
    try:
        archive = np.load(path, allow_pickle=False)
    except ValueError as exc:
        # numpy reports any file that is neither .npz nor .npy as pickled: look for ourselves.
        if "pickle" in str(exc).lower() and _looks_pickled(path):
            raise SaveFileError(
                f"gg.load: {path!r} holds pickled Python objects, not an .npz of arrays. "
                "Loading a pickle can run any code its author chose, so graphgrad never does. "
                "Save state with gg.save(model.state_dict(), path)."
            ) from None
        if "pickle" in str(exc).lower():
            raise SaveFileError(
                f"gg.load: {path!r} is not an .npz file of arrays (another format, or "
                "corrupt); write state dicts with gg.save"
            ) from None
        raise SaveFileError(f"gg.load: {path!r} is not a readable .npz file: {exc}") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise SaveFileError(
            f"gg.load: {path!r} is not a readable .npz file (truncated or corrupt?): {exc}"
        ) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise SaveFileError(
            f"gg.load: {path!r} holds a single array (.npy), not a state dict (.npz); "
            "write state dicts with gg.save"
        )
    state = StateDict()
    state.source = path
    with archive:
        # Each entry by its own name: numpy's lookup by key finds "a.npy" for the key "a.npy"
        # when the entry "a.npy.npy" holds it.
        for member in archive.zip.namelist():
            key = member.removesuffix(".npy")
            if not member.endswith(".npy"):
                raise SaveFileError(
                    f"gg.load: entry {key!r} of {path!r} is not an array (.npy); write state "
                    "dicts with gg.save"
                )
            try:
                with archive.zip.open(member) as entry:
                    state[key] = np.lib.format.read_array(entry, allow_pickle=False)
            except ValueError as exc:
                reason = ("it holds pickled objects, which graphgrad never loads"
                          if "pickle" in str(exc).lower() else str(exc))
                raise SaveFileError(f"gg.load: entry {key!r} of {path!r}: {reason}") from None
            except (OSError, EOFError, zipfile.BadZipFile) as exc:
                raise SaveFileError(
                    f"gg.load: entry {key!r} of {path!r} is corrupt: {exc}"
                ) from None
    return state
