"""taskkit's benchmark harness: the peer harness's workloads, for any backend URL.

Run it as ``python -m benchmarks --url URL``; README.md says what each
workload measures and how to compare with the peers in the same run.
"""
