"""The posts an analysis reads, with their texts apart: in memory only the columns every step
reads (:data:`FRAME_COLUMNS`), the whole posts read back in batches.

Only the calls step reads every post's text, and it classifies each post on its own; the steps
after it read the calls and boasts whole, and of the other posts only their ids, chats, times,
forwards and targets. The texts are most of a case's memory (10^7 posts of ~240 characters hold
4 GB of UTF-8, and a Python list of links per post), so the analysis of a stored case
(:meth:`detector.store.Case.analysis_posts`) writes every other column to an Arrow file while it
reads the case and goes through the posts batch by batch; posts given as a frame are one batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa

from detector.schema import TABLES

#: The posts' columns the steps after the calls step read (the periods, forward chains, reviews
#: and campaigns); a case's other columns are kept apart.
FRAME_COLUMNS = ("post_id", "chat", "posted_at", "forwarded_from", "forwarded_from_id", "targets")


class AnalysisPosts:
    """Every post of a case as the analysis reads it.

    ``frame``: one row per post, in the case's order, with :data:`FRAME_COLUMNS` when the
    other columns are apart (every column for posts given as a frame).
    :meth:`batches`: the same posts again, in the same order and with the same index, in
    batches holding every column.
    """

    #: Posts per batch of a case whose texts are apart: a batch's texts, links and other columns
    #: are held in memory while the calls step reads them (~0.6 GB for 10^6 posts of ~240
    #: characters), and each batch forks the step's workers anew (~0.3 s).
    BATCH_ROWS = 1_000_000

    def __init__(self, frame: pd.DataFrame, batches: Callable[[int], Iterator[pd.DataFrame]],
                 chat_names: frozenset | None = None):
        self.frame = frame
        self._batches = batches
        #: The ids and titles of the posts' chats, when the titles are apart (None: read them from
        #: ``frame``); what a forward's origin is compared with.
        self.chat_names = chat_names

    @classmethod
    def of(cls, posts: pd.DataFrame) -> AnalysisPosts:
        """Posts held whole in memory: the frame is ``posts`` and the one batch too."""
        return cls(posts, lambda _rows: iter([posts]))

    @classmethod
    def apart(cls, frame: pd.DataFrame, path: Path, convert: Callable[[pa.Table], pd.DataFrame],
              chat_names: frozenset | None = None) -> AnalysisPosts:
        """``frame`` (the posts' :data:`FRAME_COLUMNS`) and their other columns in the Arrow file
        ``path`` (:func:`apart_writer`; a row per row of ``frame``), which ``convert`` turns into
        columns; ``chat_names``: the chats' ids and titles."""
        def batches(rows: int) -> Iterator[pd.DataFrame]:
            order = list(TABLES["posts"])
            for first, table in _read_apart(path, _even(len(frame), rows)):
                last = first + table.num_rows
                read = convert(table).set_axis(frame.index[first:last])
                del table
                batch = frame.iloc[first:last].assign(**{c: read[c] for c in read.columns})[order]
                del read
                yield batch
                del batch       # gone before the next is read, once the caller drops it too
        return cls(frame, batches, chat_names)

    def batches(self, rows: int | None = None) -> Iterator[pd.DataFrame]:
        """Every post in batches of about ``rows`` (default :attr:`BATCH_ROWS`) posts, in order
        (equal ones: 10^6 + 20 posts are one batch, not two). A caller that drops each batch
        before it asks for the next holds one at a time."""
        return self._batches(rows or self.BATCH_ROWS)

    def __len__(self) -> int:
        return len(self.frame)


@contextmanager
def apart_writer(path: Path, schema: pa.Schema) -> Iterator[Callable[[pa.RecordBatch], None]]:
    """A function that appends record batches of ``schema`` to the Arrow file ``path`` (written
    uncompressed: at 10^6 posts compression took 2-3 s against 0.6 s for the plain write)."""
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
        yield writer.write_batch


def _even(total: int, rows: int) -> int:
    """Rows per batch when ``total`` rows are cut into batches of about ``rows``: as many equal
    batches as ``rows`` goes into ``total``, rounded, and at least one."""
    return max(1, -(-total // max(1, round(total / rows))))


def _read_apart(path: Path, rows: int) -> Iterator[tuple[int, pa.Table]]:
    """The Arrow file ``path`` in tables of ``rows`` rows (the last one shorter, and one empty
    table for an empty file), with the row each one starts at. Read into memory (not mapped), so
    a table's memory goes with it; each column in one chunk, as the store reads a table (taking
    rows of a column in many chunks joins them first, at every take)."""
    with pa.OSFile(str(path), "rb") as source:
        reader = pa.ipc.open_file(source)
        first, held, count = 0, [], 0
        for i in range(reader.num_record_batches):
            batch = reader.get_batch(i)
            while count + batch.num_rows >= rows:
                taken = rows - count
                held.append(batch.slice(0, taken))
                yield first, _one_chunk(held, reader.schema)
                first, count, batch = first + rows, 0, batch.slice(taken)
            held.append(batch)
            count += batch.num_rows
        if count or first == 0:
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
