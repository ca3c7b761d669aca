"""Reading growing logs in byte blocks: what the engine delivers and what it only counts."""

from sessions.metrics import BYTE_NEEDLES
from sessions.tail import CHUNK, LineIndex, LogTailer, last_lines, lines_containing, split_lines


def test_last_lines_keeps_the_end_and_counts_the_rest():
    block = b"".join(f"line {i}\n".encode() for i in range(10))
    assert last_lines(block, 3) == (["line 7", "line 8", "line 9"], 7)
    assert last_lines(block, 10) == (split_lines(block), 0)
    assert last_lines(block, 50) == (split_lines(block), 0)
    assert last_lines(b"", 5) == ([], 0)


def test_lines_containing_finds_every_metrics_line_in_order():
    block = (b"noise\nTRAIN_PLAN unit=epoch total=2\nstep 1\nTRAIN_METRICS: epoch=1 acc=\xff1\n"
             b"x\nFINAL_METRICS score=3 TRAIN_PLAN\nTRAIN_METRICS epoch=2\n")
    assert lines_containing(block, BYTE_NEEDLES) == [
        "TRAIN_PLAN unit=epoch total=2", "TRAIN_METRICS: epoch=1 acc=\ufffd1",
        "FINAL_METRICS score=3 TRAIN_PLAN", "TRAIN_METRICS epoch=2",
    ]
    assert lines_containing(b"nothing here\n" * 1000, BYTE_NEEDLES) == []


def test_tailer_returns_complete_lines_only_and_the_unterminated_end_at_drain(tmp_path):
    log = tmp_path / "a.log"
    tailer = LogTailer(log)
    assert tailer.read_block() == b""  # not created yet
    log.write_bytes(b"one\ntw")
    assert tailer.read_block() == b"one\n"
    with open(log, "ab") as fh:
        fh.write(b"o\r\nthree")
    assert split_lines(tailer.read_block()) == ["two"]
    assert list(tailer.drain()) == [b"three\n"]
    assert list(tailer.drain()) == []


def test_a_line_longer_than_a_read_is_kept_whole(tmp_path):
    log = tmp_path / "long.log"
    long_line = b"x" * (CHUNK + CHUNK // 2)
    log.write_bytes(b"head\n" + long_line + b"\ntail")
    blocks = list(LogTailer(log).drain())
    assert b"".join(blocks) == b"head\n" + long_line + b"\ntail\n"
    assert [len(line) for b in blocks for line in split_lines(b)] == [4, len(long_line), 4]


def test_a_line_index_grows_with_the_file_and_reads_any_line(tmp_path):
    path = tmp_path / "run.log"
    index = LineIndex(path)
    assert not index.update() and len(index) == 0  # no file yet
    path.write_bytes(b"first\n\nthird (being writ")
    assert index.update() and len(index) == 3 and index.indexed == 2
    assert index.lines(0, 9) == ["first", "", "third (being writ"]  # the part line counts as the last
    with path.open("ab") as fh:
        fh.write(b"ten)\n" + b"".join(b"line %d\n" % i for i in range(10_000)))
    assert index.update() and len(index) == 10_003
    assert index.lines(2, 4) == ["third (being written)", "line 0"] and index.lines(10_002, 10_003) == ["line 9999"]
    assert index.widest == len("third (being written)") and not index.update()  # nothing new


def test_a_line_longer_than_the_budget_is_indexed_in_pieces(tmp_path):
    path = tmp_path / "run.log"
    path.write_bytes(b"x" * 10 + b"\ny\n")
    index = LineIndex(path)
    while index.update(budget=4):
        pass
    assert index.lines(0, len(index)) == ["xxxx", "xxxx", "xx", "y"]
