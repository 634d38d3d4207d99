"""The posts an analysis reads, with their texts apart: every other column in memory, the texts
(``text`` and ``urls``) read back in batches.

Only the calls step reads every post's text, and it classifies each post on its own; the steps
after it read the texts of the calls and boasts alone. The texts are most of a case's memory
(10^7 posts of ~240 characters hold 4 GB of UTF-8, and a Python list of links per post), so the
analysis of a stored case (:meth:`detector.store.Case.analysis_posts`) writes them to an Arrow
file while it reads the case and goes through them batch by batch; posts given as a frame are
one batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa

from detector.schema import TABLES

TEXT_COLUMNS = ("text", "urls")     # the posts' columns kept apart


class AnalysisPosts:
    """Every post of a case as the analysis reads it.

    ``frame``: one row per post, in the case's order, with every column of the posts table
    but :data:`TEXT_COLUMNS` when the texts are apart (all of them for posts given as a frame).
    :meth:`batches`: the same posts again, in the same order and with the same index, in
    batches holding every column.
    """

    #: Posts per batch of a case whose texts are apart: a batch's texts and links are held
    #: once more as the calls step's workers read them (~1 GB for 2·10^6 posts of ~240
    #: characters); each batch forks the step's workers anew (~0.3 s).
    BATCH_ROWS = 2_000_000

    def __init__(self, frame: pd.DataFrame, batches: Callable[[int], Iterator[pd.DataFrame]]):
        self.frame = frame
        self._batches = batches

    @classmethod
    def of(cls, posts: pd.DataFrame) -> AnalysisPosts:
        """Posts held whole in memory: the frame is ``posts`` and the one batch too."""
        return cls(posts, lambda _rows: iter([posts]))

    @classmethod
    def apart(cls, frame: pd.DataFrame, texts: Path, convert: Callable[[pa.Table], pd.DataFrame]) -> AnalysisPosts:
        """``frame`` (the posts without their texts) and the texts in the Arrow file ``texts``
        (:func:`texts_writer`; a row per row of ``frame``), which ``convert`` turns into columns."""
        def batches(rows: int) -> Iterator[pd.DataFrame]:
            order = [c for c in TABLES["posts"] if c in frame.columns or c in TEXT_COLUMNS]
            for first, table in _read_texts(texts, rows):
                index = frame.index[first:first + table.num_rows]
                read = convert(table).set_axis(index)
                yield frame.iloc[first:first + table.num_rows].assign(**{c: read[c] for c in read.columns})[order]
        return cls(frame, batches)

    def batches(self, rows: int | None = None) -> Iterator[pd.DataFrame]:
        """Every post in batches of about ``rows`` (default :attr:`BATCH_ROWS`) posts, in order."""
        return self._batches(rows or self.BATCH_ROWS)

    def __len__(self) -> int:
        return len(self.frame)


@contextmanager
def texts_writer(path: Path, schema: pa.Schema) -> Iterator[Callable[[pa.RecordBatch], None]]:
    """A function that appends record batches of ``schema`` to the Arrow file ``path`` (written
    uncompressed: at 10^6 posts compression took 2-3 s against 0.6 s for the plain write)."""
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
        yield writer.write_batch


def _read_texts(path: Path, rows: int) -> Iterator[tuple[int, pa.Table]]:
    """The Arrow file ``path`` as tables of consecutive record batches, each of at least ``rows``
    rows but the last, with the row each one starts at. Read into memory (not mapped), so a
    table's memory goes with it; each column in one chunk, as the store reads a table (taking
    rows of a column in many chunks joins them first, at every take)."""
    with pa.OSFile(str(path), "rb") as source:
        reader = pa.ipc.open_file(source)
        first, held, count = 0, [], 0
        for i in range(reader.num_record_batches):
            batch = reader.get_batch(i)
            held.append(batch)
            count += batch.num_rows
            if count >= rows:
                yield first, _one_chunk(held, reader.schema)
                first, held, count = first + count, [], 0
        if held or first == 0:
            yield first, _one_chunk(held, reader.schema)


def _one_chunk(batches: list[pa.RecordBatch], schema: pa.Schema) -> pa.Table:
    """``batches`` as a table whose columns are one chunk each (``batches`` is emptied)."""
    table = pa.Table.from_batches(batches, schema)
    batches.clear()
    joined = table.combine_chunks()
    del table
    release_arrow_memory()
    return joined


def release_arrow_memory() -> None:
    """Hand the pages Arrow's memory pool has freed back to the system. Its allocator (mimalloc)
    keeps them for later Arrow buffers, but the steps after the read and the calls step mostly
    allocate NumPy and Python memory, which cannot reuse them: after a batch of 10^6 posts'
    texts was joined and dropped, ~0.9 GB stayed resident."""
    pa.default_memory_pool().release_unused()
