import pytest

from mir.tracks import find_audio_files, safe_track_id, track_name, unique_track_id


@pytest.mark.parametrize(
    "file_name, expected",
    [
        ("01 - Blue Monday.flac", "Blue Monday"),
        ("01. Song.mp3", "Song"),
        ("1-02 Title.wav", "Title"),
        ("A1 Side Track.flac", "Side Track"),
        ("03_Title.flac", "Title"),
        ("2112.mp3", "2112"),
        ("A Day in the Life.flac", "A Day in the Life"),
    ],
)
def test_track_name_drops_the_leading_track_number(file_name, expected):
    assert track_name(file_name) == expected


@pytest.mark.parametrize(
    "raw", ["../../etc/passwd", "a/b\\c", "..hidden", "x...y", "bell\x07\nname"]
)
def test_track_ids_are_safe(raw):
    tid = safe_track_id(raw)
    assert "/" not in tid and "\\" not in tid and ".." not in tid
    assert not tid.startswith(".")
    assert all(ord(c) >= 32 for c in tid)


def test_unicode_and_quotes_survive():
    assert track_name('05 - Sigur Rós "Glósóli".flac') == "Sigur Rós _Glósóli_"
    assert track_name("07 - Don't Stop.mp3") == "Don't Stop"


def test_collisions_get_a_suffix():
    assert unique_track_id("Song", {"Song", "Song (2)"}) == "Song (3)"


def test_symlinks_out_of_the_inbox_are_ignored(tmp_path):
    inbox, outside = tmp_path / "inbox", tmp_path / "outside"
    inbox.mkdir(), outside.mkdir()
    (outside / "secret.wav").write_bytes(b"x")
    (inbox / "link.wav").symlink_to(outside / "secret.wav")
    (inbox / "real.wav").write_bytes(b"x")
    (inbox / ".partial.wav").write_bytes(b"x")
    assert [p.name for p in find_audio_files(inbox, ["wav"])] == ["real.wav"]
