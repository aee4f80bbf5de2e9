"""gg.save / gg.load: round trips, and refusal of pickled, corrupt or mismatched files."""
import os
import pickle

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn, optim
from graphgrad.io import SaveFileError


def _model(seed):
    return nn.Sequential(nn.Linear(3, 4, rng=seed), nn.BatchNorm1d(4), nn.ReLU(),
                         nn.Linear(4, 2, rng=seed + 1))


def test_model_round_trip(tmp_path):
    model = _model(0)
    model(np.random.default_rng(0).standard_normal((8, 3)))  # running statistics move
    path = tmp_path / "model.npz"
    gg.save(model.state_dict(), path)
    state = gg.load(path)
    assert list(state) == list(model.state_dict())
    assert state.source == str(path)
    restored = _model(5)
    restored.load_state_dict(state)
    X = np.random.default_rng(1).standard_normal((4, 3))
    model.eval(), restored.eval()
    np.testing.assert_array_equal(restored(X).data, model(X).data)


def test_optimizer_state_round_trip_keeps_numbers_and_names(tmp_path):
    model = _model(0)
    adam = optim.Adam(model.parameters(), lr=0.003)
    nn.cross_entropy(model(np.ones((4, 3))), np.array([0, 1, 1, 0])).backward()
    adam.step()
    gg.save(adam.state_dict(), tmp_path / "adam.npz")
    state = gg.load(tmp_path / "adam.npz")
    assert str(state["optimizer"]) == "Adam" and float(state["lr"]) == 0.003
    assert int(state["t"]) == 1
    np.testing.assert_array_equal(state["state.0.v"], adam.state[0]["v"])


def test_a_pickled_file_is_refused(tmp_path):
    path = tmp_path / "model.pkl"
    with open(path, "wb") as file:
        pickle.dump(_model(0).state_dict(), file)
    with pytest.raises(SaveFileError, match=r"model\.pkl.*pickled.*never does"):
        gg.load(path)


def test_a_pickled_entry_inside_an_npz_is_refused(tmp_path):
    path = tmp_path / "sneaky.npz"
    np.savez(path, W=np.ones(2), payload=np.array([{"code": "run me"}], dtype=object))
    with pytest.raises(SaveFileError, match=r"entry 'payload' of .*sneaky\.npz.*pickled"):
        gg.load(path)


def test_objects_are_never_saved(tmp_path):
    with pytest.raises(SaveFileError, match="'W'.*never pickled"):
        gg.save({"W": np.array([object()])}, tmp_path / "x.npz")
    with pytest.raises(SaveFileError, match=r"model\.state_dict\(\)"):
        gg.save(_model(0), tmp_path / "x.npz")
    with pytest.raises(SaveFileError, match=r"'model' holds a dict.*two files"):
        gg.save({"model": _model(0).state_dict()}, tmp_path / "x.npz")
    assert not list(tmp_path.iterdir())  # nothing half-written left behind


def test_corrupt_missing_and_single_array_files(tmp_path):
    good = tmp_path / "good.npz"
    gg.save(_model(0).state_dict(), good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(SaveFileError, match=r"truncated\.npz"):
        gg.load(truncated)
    with pytest.raises(SaveFileError, match=r"no file .*absent\.npz"):
        gg.load(tmp_path / "absent.npz")
    np.save(tmp_path / "one.npy", np.ones(3))
    with pytest.raises(SaveFileError, match=r"one\.npy.*single array"):
        gg.load(tmp_path / "one.npy")
    assert isinstance(SaveFileError("x"), OSError)


def test_a_file_for_another_model_names_the_file_and_the_keys(tmp_path):
    path = tmp_path / "other.npz"
    gg.save(nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2)).state_dict(), path)
    with pytest.raises(nn.StateDictError, match=r"(?s)other\.npz.*missing keys: batchnorm1\."
                                                r"gamma.*linear1\.W: the state has shape "
                                                r"\(5, 3\), the model \(4, 3\)"):
        _model(0).load_state_dict(gg.load(path))


def test_a_saved_file_gets_the_mode_of_any_new_file_or_of_the_file_it_replaces(tmp_path):
    path = tmp_path / "model.npz"
    gg.save({"W": np.ones(2)}, path)
    np.savez(tmp_path / "plain.npz", W=np.ones(2))
    assert os.stat(path).st_mode & 0o777 == os.stat(tmp_path / "plain.npz").st_mode & 0o777
    os.chmod(path, 0o600)  # a private checkpoint stays private when saved over
    gg.save({"W": np.zeros(2)}, path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    np.testing.assert_array_equal(gg.load(path)["W"], [0.0, 0.0])


def test_keys_ending_in_npy_load_back_under_their_own_names(tmp_path):
    """numpy's lookup by key found the entry 'a.npy' for the key 'a.npy', which 'a' holds."""
    state = {"a": np.zeros(2), "a.npy": np.ones(3), "b.npy.npy": np.full(1, 2.0)}
    gg.save(state, tmp_path / "s.npz")
    loaded = gg.load(tmp_path / "s.npz")
    assert sorted(loaded) == sorted(state)
    for key, array in state.items():
        np.testing.assert_array_equal(loaded[key], array)


def test_an_interrupted_save_leaves_the_checkpoint_saved_before(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    gg.save({"W": np.ones((2, 2)), "b": np.zeros(2)}, path)
    write_array = np.lib.format.write_array
    written = []

    def write_then_interrupt(*args, **kwargs):
        write_array(*args, **kwargs)
        written.append(True)
        raise KeyboardInterrupt  # Ctrl-C after the first array

    monkeypatch.setattr(np.lib.format, "write_array", write_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        gg.save({"W": np.full((2, 2), 5.0), "b": np.ones(2)}, path)
    assert written == [True]
    loaded = gg.load(path)
    np.testing.assert_array_equal(loaded["W"], np.ones((2, 2)))
    np.testing.assert_array_equal(loaded["b"], np.zeros(2))
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


def test_saving_into_a_missing_folder_names_the_path(tmp_path):
    path = tmp_path / "no_such_folder" / "model.npz"
    with pytest.raises(SaveFileError, match="create the folder first") as info:
        gg.save({"W": np.ones(2)}, path)
    assert str(path) in str(info.value)


def test_a_file_of_another_format_is_called_that_not_a_pickle(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("these are notes, not arrays")
    with pytest.raises(SaveFileError, match="not an .npz file of arrays") as info:
        gg.load(path)
    assert "pickle" not in str(info.value)


def test_an_entry_that_is_not_an_array_is_refused(tmp_path):
    import zipfile
    path = tmp_path / "mixed.npz"
    gg.save({"W": np.ones(2)}, path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(SaveFileError, match="'readme.txt' .* is not an array"):
        gg.load(path)


@pytest.mark.parametrize("path", [None, 5, ["model.npz"], np.array("model.npz")])
def test_a_path_that_is_no_file_name_is_refused_by_name(path):
    """os.fspath failed with 'expected str, bytes or os.PathLike object' alone."""
    from graphgrad.io import SaveTypeError
    for call, caller in ((lambda: gg.save({"W": np.ones(2)}, path), "gg.save"),
                         (lambda: gg.load(path), "gg.load")):
        with pytest.raises(SaveTypeError, match=rf"^{caller}: path must be a file name, a str "
                                                r"or a pathlib.Path, got ") as info:
            call()
        assert isinstance(info.value, TypeError) and isinstance(info.value, SaveFileError)


def test_a_folder_is_no_file_to_save_to_or_load(tmp_path):
    """gg.save named a temporary file ('Is a directory: /tmp/.graphgrad-... -> ...'), and
    gg.load said there was no file."""
    for path in (tmp_path, str(tmp_path) + os.sep):
        for call, caller in ((lambda p=path: gg.save({"W": np.ones(2)}, p), "gg.save"),
                             (lambda p=path: gg.load(p), "gg.load")):
            with pytest.raises(SaveFileError, match=rf"^{caller}: .* is a folder, not a file; "
                                                    r"give a file's name, such as .*model\.npz"):
                call()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(SaveFileError, match=r"^gg.save: path is empty; give a file name"):
        gg.save({"W": np.ones(2)}, "")


def test_a_bytes_path_saves_and_loads(tmp_path):
    """mkstemp failed on 'Can't mix bytes and non-bytes in path components'."""
    path = os.fsencode(tmp_path / "model.npz")
    gg.save({"W": np.arange(3.0)}, path)
    np.testing.assert_array_equal(gg.load(path)["W"], [0.0, 1.0, 2.0])


def test_a_ragged_list_is_named_by_its_key(tmp_path):
    """np.asarray's inhomogeneous-shape ValueError came alone, naming no key."""
    from graphgrad.io import SaveTypeError
    with pytest.raises(SaveTypeError, match=r"^gg.save: 'W' holds a list that cannot be made "
                                            r"into an array \(.*\); give an array"):
        gg.save({"b": np.zeros(2), "W": [[1.0], [2.0, 3.0]]}, tmp_path / "model.npz")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("state, message", [
    (None, r"^gg.save takes a dict of arrays, got NoneType$"),
    ({1: np.ones(2)}, r"^gg.save: keys must be non-empty strings without '/', got 1$"),
    ({"W": None}, r"^gg.save: 'W' holds None; .*leave the key out$"),
    ({"W": np.array([None])}, r"^gg.save: 'W' holds a value of type ndarray of dtype object"),
    ({"W": {"b": 1}}, r"^gg.save: 'W' holds a dict"),
])
def test_what_is_no_state_dict_is_a_type_error(tmp_path, state, message):
    with pytest.raises(SaveFileError, match=message) as info:
        gg.save(state, tmp_path / "model.npz")
    assert isinstance(info.value, TypeError)


def test_a_path_given_before_the_state_is_named_so(tmp_path):
    with pytest.raises(TypeError, match=r"^gg.save takes a dict of arrays, got \w+Path \(the "
                                        r"state first, then the path"):
        gg.save(tmp_path / "model.npz", {"W": np.ones(2)})
    assert list(tmp_path.iterdir()) == []


def test_strings_round_trip_and_a_list_mixing_numbers_and_strings_is_refused(tmp_path):
    """[1, 'a'] was saved as the strings ['1', 'a'] without a word: the number came back as
    the string '1'."""
    from graphgrad.io import SaveTypeError
    path = tmp_path / "state.npz"
    gg.save({"name": "abc", "tags": ["a", "bb"], "W": np.ones(2)}, path)
    state = gg.load(path)
    assert state["name"] == "abc" and str(state["name"]) == "abc" and state["name"].ndim == 0
    assert state["tags"].tolist() == ["a", "bb"]
    gg.save({"W": np.zeros(2)}, path)
    for mixed, shown in (([1, "a"], "1"), ([["a", "b"], ["c", 2.5]], "2.5")):
        with pytest.raises(SaveTypeError, match=rf"^gg.save: 'tags' holds a list mixing "
                                                rf"strings with other values \({shown} is a "
                                                r"(int|float)\), which would come back as "
                                                r"strings: save them under two keys"):
            gg.save({"W": np.ones(2), "tags": mixed}, path)
        np.testing.assert_array_equal(gg.load(path)["W"], [0.0, 0.0])  # the file as it was
