"""``grader.py bench`` prints throughput and p95 latency for benchmarks that record them (chapter 04 lesson §3.2)."""

from verlings.bench import service_lines


def test_service_lines_report_throughput_and_p95():
    data = {"benchmarks": [
        {"name": "test_score_texts[yours]", "extra_info": {"requests_per_s": 180.4, "p95_latency_ms": 21.26}},
        {"name": "test_gae[reference]", "extra_info": {}},  # no service figures: no line
        {"name": "test_score_texts[verl]", "extra_info": {"requests_per_s": 190.0, "p95_latency_ms": None}},
    ]}
    assert service_lines(data) == ["test_score_texts[yours]: 180 requests/s, p95 latency 21.3 ms"]
