"""The load generator on its own: absolute schedules, bounds, and the records it fills."""

import asyncio
import time

import numpy as np
import pytest

from modelgate.bench.records import RequestRecords
from modelgate.bench.scheduler import LoadShape, Scheduler, arrival_offsets
from modelgate.errors import InvalidInputError


def run(shape, send_s=0.0, block_s=0.0, progress=None):
    records = RequestRecords(capacity=4)
    starts = {}

    async def send(index):
        starts[index] = time.perf_counter()
        if block_s:
            time.sleep(block_s)  # work that blocks the event loop, as a busy client does
        await asyncio.sleep(send_s)

    async def main():
        scheduler = Scheduler(shape, records, send, progress)
        timing = await scheduler.run()
        return timing, {index: when - scheduler.started_at for index, when in starts.items()}

    timing, offsets = asyncio.run(main())
    return records, timing, offsets


def test_blocking_sends_do_not_drift():
    # 40 sends due every 5 ms that each hold the loop for 3 ms: relative sleeps would end 120 ms late.
    shape = LoadShape(concurrency=None, num_requests=40, request_rate=200, arrival="constant")
    records, _, offsets = run(shape, block_s=0.003)
    assert offsets[39] - records.column("scheduled_s")[39] < 0.06


def test_constant_offsets_exact():
    assert arrival_offsets(4, 10.0, "constant", 0).tolist() == pytest.approx([0.0, 0.1, 0.2, 0.3])


def test_poisson_mean_gap():
    offsets = arrival_offsets(20_000, 50.0, "poisson", 1)
    assert np.diff(offsets).mean() == pytest.approx(0.02, rel=0.05)


def test_poisson_seeded_repeatable():
    assert arrival_offsets(5, 50.0, "poisson", 3).tolist() == arrival_offsets(5, 50.0, "poisson", 3).tolist()


def test_closed_loop_sends_exact_count():
    records, _, offsets = run(LoadShape(concurrency=3, num_requests=10))
    assert records.size == 10
    assert len(offsets) == 10


def test_closed_loop_grows_records():
    records, _, _ = run(LoadShape(concurrency=2, num_requests=3000))
    assert records.size == 3000


def test_open_loop_stops_at_duration():
    shape = LoadShape(concurrency=None, num_requests=1000, request_rate=100, arrival="constant", max_duration_s=0.2)
    records, _, _ = run(shape)
    assert records.size == 20


def test_loop_lag_measured():
    _, timing, _ = run(LoadShape(concurrency=1, num_requests=5), send_s=0.05)
    assert timing.loop_lag_ms.size > 10


def test_blocked_loop_shows_lag():
    _, timing, _ = run(LoadShape(concurrency=1, num_requests=10), send_s=0.01, block_s=0.03)
    assert timing.loop_lag_ms.max() > 20


def test_progress_reaches_total():
    calls = []
    run(LoadShape(concurrency=2, num_requests=8), send_s=0.01, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (8, 8)


def test_progress_failure_does_not_stop():
    def broken(done, total):
        raise RuntimeError("display gone")

    records, _, _ = run(LoadShape(concurrency=2, num_requests=8), send_s=0.01, progress=broken)
    assert records.size == 8


@pytest.mark.parametrize(
    "shape, message",
    [
        (LoadShape(concurrency=0), "concurrency=0"),
        (LoadShape(num_requests=0), "num_requests=0"),
        (LoadShape(max_duration_s=0), "max_duration_s=0"),
        (LoadShape(request_rate=-1), "request_rate=-1"),
        (LoadShape(concurrency=None), "closed loop needs a concurrency"),
        (LoadShape(request_rate=5, arrival="gamma"), "arrival='gamma'"),
    ],
)
def test_invalid_shape_rejected(shape, message):
    with pytest.raises(InvalidInputError, match=message):
        shape.check()


def test_progress_total_follows_time_limit():
    calls = []
    shape = LoadShape(concurrency=1, num_requests=100_000, max_duration_s=2.2)
    run(shape, send_s=0.01, progress=lambda done, total: calls.append((done, total)))
    assert calls[-2][1] < 1000
